"""`single-cluster`: the mesh on a serverless Alibaba Cloud cluster."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from stacks.config.alibaba import AlicloudNetworkConfig, ServerlessClusterConfig
from stacks.config.checks import (
    Problems,
    ambient_unsupported,
    cni_on_serverless,
    inert_network_policies,
    overlapping,
    policies_off_unless_set,
    unsupported_kubernetes,
    vswitch_outside,
)
from stacks.config.mesh import MeshStack


class SingleClusterStack(MeshStack):
    scenario: Literal["single-cluster"]
    network: AlicloudNetworkConfig = AlicloudNetworkConfig()
    cluster: ServerlessClusterConfig = ServerlessClusterConfig()

    @property
    def serverless(self) -> bool:
        return True

    @model_validator(mode="before")
    @classmethod
    def _policies_off(cls, data: Any) -> Any:
        return policies_off_unless_set(data)

    @model_validator(mode="after")
    def _checks(self) -> SingleClusterStack:
        problems = Problems()
        problems.add(
            cni_on_serverless(self.istio, serverless=True),
            inert_network_policies(
                self.security.network_policies, {self.cluster.name: self.cluster.offering}
            ),
            ambient_unsupported(
                self.istio,
                "this cluster is serverless, and virtual nodes run no DaemonSet (ambient's "
                "ztunnel and istio-cni are DaemonSets)",
            ),
            unsupported_kubernetes(self.istio.version, self.cluster.kubernetes_version),
        )
        # vSwitches lie inside the VPC by design: each is compared with the others and the
        # Service range; the Service range with the VPC too.
        named = [("network.vpcCidr", self.network.vpc_cidr)]
        vswitches = []
        for i, vswitch in enumerate(self.network.vswitches):
            key = f"network.vswitches[{i}]"
            problems.add(
                vswitch_outside(
                    self.network, f"{key}.cidr", vswitch.cidr, f"{key}.zone", vswitch.zone
                )
            )
            vswitches.append((f"{key}.cidr", vswitch.cidr))
        service = ("cluster.serviceCidr", self.cluster.service_cidr)
        problems.add(overlapping([*vswitches, service]), overlapping([*named, service]))
        problems.raise_any()
        return self
