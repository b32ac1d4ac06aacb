"""`single-cluster`: the mesh on a serverless Alibaba Cloud cluster."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from stacks.config.alibaba import AlicloudNetworkConfig, ServerlessClusterConfig
from stacks.config.checks import (
    _refuse_cni_on_serverless,
    _refuse_unsupported_kubernetes,
    _refuse_vswitch_outside,
    assert_disjoint,
)
from stacks.config.mesh import MeshStack


class SingleClusterStack(MeshStack):
    scenario: Literal["single-cluster"]
    network: AlicloudNetworkConfig = AlicloudNetworkConfig()
    cluster: ServerlessClusterConfig = ServerlessClusterConfig()

    @model_validator(mode="after")
    def _checks(self) -> SingleClusterStack:
        _refuse_cni_on_serverless(self.istio, serverless=True)
        _refuse_unsupported_kubernetes(self.istio.version, self.cluster.kubernetes_version)
        named = []
        for i, vswitch in enumerate(self.network.vswitches):
            key = f"network.vswitches[{i}]"
            _refuse_vswitch_outside(
                self.network, f"{key}.cidr", vswitch.cidr, f"{key}.zone", vswitch.zone
            )
            named.append((f"{key}.cidr", vswitch.cidr))
        named.append(("cluster.serviceCidr", self.cluster.service_cidr))
        assert_disjoint(named)
        return self
