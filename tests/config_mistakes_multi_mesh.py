"""Wrong multi-mesh configs (issue #33 item 2), with the fragments the refusal must show
(tests/test_config.py runs them with the others)."""

from __future__ import annotations

from typing import Any

from tests.config_mistakes import mesh_cluster, raw

MM = "multi-mesh"


def meshes(first: dict[str, Any] | None = None, second: dict[str, Any] | None = None) -> list:
    """mesh-a on ACK, mesh-b on GKE (the stack file's shape), each changed by its dict."""
    return [
        {
            "name": "mesh-a",
            "trustDomain": "mesh-a.example",
            "clusters": [mesh_cluster("ack-west", 0, "ack", network="alibaba")],
            **(first or {}),
        },
        {
            "name": "mesh-b",
            "trustDomain": "mesh-b.example",
            "clusters": [mesh_cluster("gke-west", 1, network="google")],
            **(second or {}),
        },
    ]


MULTI_MESH_MISTAKES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "two meshes in the default trust domain",
        raw(
            MM,
            meshes=meshes({"trustDomain": "cluster.local"}, {"trustDomain": "cluster.local"}),
        ),
        [
            "meshstack:meshes[1].trustDomain 'cluster.local' is also meshes[0]'s",
            "give each its own",
        ],
    ),
    (
        "a trust domain that is no SPIFFE trust domain",
        raw(MM, meshes=meshes({"trustDomain": "Mesh A"})),
        ["meshstack:meshes[0].trustDomain = 'Mesh A'", "a trust domain such as mesh-a.example"],
    ),
    (
        "one mesh is no federation",
        raw(MM, meshes=meshes()[:1]),
        ["meshstack:meshes"],
    ),
    (
        "every federation mistake at once",
        raw(
            MM,
            meshes=meshes(
                {"clusters": [mesh_cluster("gke-west", 0, network="google")]},
                {"name": "mesh-a"},
            ),
            federation={
                "exporter": "mesh-c",
                "allowedAccount": "caller",
                "otherAccount": "caller",
                "gatewayPort": 15021,
            },
            helloWorld={"enabled": False},
            istio={"dataPlane": "ambient"},
        ),
        [
            "meshstack:meshes[1].name 'mesh-a' is also meshes[0]'s",
            "meshstack:meshes[1].clusters[0].name 'gke-west' is also a cluster of meshes[0]",
            "meshstack:meshes: both meshes have clusters on GKE",
            "meshstack:federation.exporter 'mesh-c' is not a mesh of the stack",
            "meshstack:federation.allowedAccount 'caller' and federation.otherAccount 'caller'",
            "meshstack:federation.gatewayPort 15021 is a port Istio's proxies use",
            "meshstack:helloWorld.enabled is false",
            "meshstack:istio.dataPlane is ambient, but meshConfig.caCertificates",
        ],
    ),
    (
        "a mesh named like a cluster",
        raw(MM, meshes=meshes({"name": "gke-west"})),
        ["meshstack:meshes[0].name 'gke-west' is also a cluster's name"],
    ),
    (
        "a mesh's own clusters checked as in multi-cluster",
        raw(
            MM,
            meshes=meshes(
                second={
                    "clusters": [
                        mesh_cluster("gke-a", 1, network="google"),
                        mesh_cluster("gke-b", 1, network="google", role="remote", primary="x"),
                    ]
                }
            ),
        ),
        ["meshstack:meshes[1].clusters[0].podCidr", "meshstack:meshes[1].clusters: "],
    ),
]
