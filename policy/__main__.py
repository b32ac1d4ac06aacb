"""Entry point Pulumi runs for `--policy-pack policy` (the pack's directory is on sys.path)."""

from mesh_policies import PACK_NAME, POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
