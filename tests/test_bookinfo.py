"""The Bookinfo component on its own: parameters the scenarios rely on."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.bookinfo import Bookinfo, BookinfoArgs


def test_extra_labels_reach_every_workload_but_not_the_selectors(engine):
    def program() -> None:
        provider = k8s.Provider("cluster", kubeconfig="fake")
        ready = k8s.core.v1.Namespace("mesh-ready")
        Bookinfo(
            "bookinfo",
            BookinfoArgs(
                namespace="bookinfo", reviews_versions=["v2"], extra_labels={"cluster": "m1c2"}
            ),
            pulumi.ResourceOptions(provider=provider, depends_on=[ready]),
        )

    declared = engine.run_program(program)
    deployments = declared.of_type("kubernetes:apps/v1:Deployment")
    assert {d.manifest["metadata"]["name"] for d in deployments} == {
        "details-v1",
        "ratings-v1",
        "reviews-v2",
        "productpage-v1",
    }
    for deployment in deployments:
        spec = deployment.manifest["spec"]
        assert spec["template"]["metadata"]["labels"]["cluster"] == "m1c2"
        assert deployment.manifest["metadata"]["labels"]["cluster"] == "m1c2"
        assert "cluster" not in spec["selector"]["matchLabels"]
        assert declared.depends_on(deployment, declared.named("mesh-ready"))
    for service in declared.of_type("kubernetes:core/v1:Service"):
        assert service.manifest["spec"]["selector"] == {"app": service.manifest["metadata"]["name"]}
