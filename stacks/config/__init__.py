"""The typed stack configuration: parsed and validated before any resource exists.

Every `meshstack:<key>` value of a stack file lands here. `load()` either returns a frozen
stack model or raises one `ConfigError` whose message names each offending key, the value
given and what is allowed. Nothing in this package touches Pulumi resources.

Modules: `fields` (value types), `mesh`, `alibaba`, `google` (settings shared by
scenarios), `cluster` (a cluster of a mesh, which both multi-cluster scenarios extend),
`checks` (cross-field checks), one module per scenario, `stack` (the union of scenarios),
`loading` (parsing and the error message).
"""

from stacks.config.alibaba import NodePoolConfig
from stacks.config.cluster import ClusterInMesh
from stacks.config.external_plane import ExternalControlPlaneStack
from stacks.config.fields import PROJECT
from stacks.config.google import GcpConfig, GkeNodePoolConfig
from stacks.config.loading import ConfigError, load, parse_raw
from stacks.config.local import LocalStack
from stacks.config.mesh import ROUTING_NEEDS, AddonsConfig, IstioConfig, MeshStack, SecurityConfig
from stacks.config.multi_cluster import MeshClusterConfig, MultiClusterStack
from stacks.config.multi_mesh import MultiMeshStack
from stacks.config.single_cluster import SingleClusterStack
from stacks.config.stack import SCENARIO_MODELS, SCENARIOS, AnyStack
from stacks.config.two_cluster import TwoClusterStack
from stacks.config.vm import VmStack

__all__ = [
    "PROJECT",
    "ROUTING_NEEDS",
    "SCENARIOS",
    "SCENARIO_MODELS",
    "AddonsConfig",
    "AnyStack",
    "ClusterInMesh",
    "ConfigError",
    "ExternalControlPlaneStack",
    "GcpConfig",
    "GkeNodePoolConfig",
    "IstioConfig",
    "LocalStack",
    "MeshClusterConfig",
    "MeshStack",
    "MultiClusterStack",
    "MultiMeshStack",
    "NodePoolConfig",
    "SecurityConfig",
    "SingleClusterStack",
    "TwoClusterStack",
    "VmStack",
    "load",
    "parse_raw",
]
