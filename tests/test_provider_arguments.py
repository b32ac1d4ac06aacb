"""Every argument the stacks give a cloud provider exists, with its current name.

Recorded inputs go back through the SDK's own `…Args` class: an unknown name fails with
TypeError, a deprecated one raises its DeprecationWarning (an error here). Resource
constructors themselves accept deprecated names silently, so this is the only place a
renamed argument shows before `pulumi up`.
"""

from __future__ import annotations

import importlib
import re
import warnings

import pytest

from tools.offline.engine import Resource

PACKAGES = {"alicloud": "pulumi_alicloud", "gcp": "pulumi_gcp", "tls": "pulumi_tls"}
VARIANTS = [
    ("single-cluster", {}),
    ("two-cluster-retention", {}),
    ("two-cluster-retention", {"controlPlane": "istio"}),
    ("vm", {}),
]


def sdk_args_class(type_token: str) -> type:
    """The SDK class that holds a resource type's arguments (`ManagedKubernetesArgs`, …)."""
    package, module, kind = type_token.split(":")
    if package == "pulumi":  # a provider resource: pulumi:providers:<package>
        return importlib.import_module(PACKAGES[kind]).ProviderArgs
    sdk = importlib.import_module(PACKAGES[package])
    namespace = module.split("/")[0]
    return getattr(sdk if namespace == "index" else getattr(sdk, namespace), f"{kind}Args")


def is_cloud(resource: Resource) -> bool:
    package = resource.type.split(":")[0]
    provider_package = resource.type.split(":")[-1] if package == "pulumi" else None
    return package in PACKAGES or provider_package in PACKAGES


@pytest.mark.parametrize(("stack", "overrides"), VARIANTS)
def test_every_cloud_argument_exists_and_is_not_deprecated(engine, stack, overrides):
    cloud = [r for r in engine.run(stack, overrides) if is_cloud(r)]
    assert len(cloud) >= 10
    for resource in cloud:
        kwargs = {
            re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value
            for key, value in resource.inputs.items()
            # A provider resource also records its plugin version, not an argument.
            if not (resource.type.startswith("pulumi:") and key == "version")
        }
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            sdk_args_class(resource.type)(**kwargs)


def test_the_replay_catches_a_renamed_argument():
    with pytest.raises(TypeError, match="vswitche_lists"):
        sdk_args_class("alicloud:servicemesh/serviceMesh:ServiceMesh")(
            network={"vpc_id": "v", "vswitche_list": "s"}, vswitche_lists="x"
        )
