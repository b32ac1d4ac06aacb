"""Plausible provider outputs for the offline engine (documentation ranges, fake ids)."""

from __future__ import annotations

from typing import Any

import pulumi

# RFC 5737 documentation address: never a real endpoint.
FAKE_LB_IP = "203.0.113.10"


class FakeCloud(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == "kubernetes:core/v1:Service" and args.resource_id:
            # A Service read back after its chart installed: a cloud load balancer answered.
            namespace, _, name = args.resource_id.partition("/")
            outputs.update(
                metadata={"name": name, "namespace": namespace},
                status={"loadBalancer": {"ingress": [{"ip": FAKE_LB_IP}]}},
            )
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list]:
        return {}, []
