"""meshstack as a Pulumi component provider (components/meshstack/provider.py, provider/):
the committed schema is what Pulumi's analyzer infers from the code, and the provider answers
GetSchema and Construct over its real gRPC interface (pulumi.provider.server), constructing
components against a resource monitor served from the offline engine's mocks."""

from __future__ import annotations

import asyncio
import json
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.provider.server import ProviderServicer
from pulumi.runtime import proto, rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import provider_pb2_grpc, resource_pb2, resource_pb2_grpc

from meshstack import provider
from tools.offline.engine import RecordingMonitor
from tools.offline.fakes import FakeCloud

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "provider"
SCHEMA = PLUGIN / "schema.json"
# A Kubernetes provider of the calling program, as the engine refers to it ("<urn>::<id>").
K8S_PROVIDER_URN = "urn:pulumi:dev::meshstack-example::pulumi:providers:kubernetes::cluster"
K8S_PROVIDER = f"{K8S_PROVIDER_URN}::k8s-id"
ISTIOD = "urn:pulumi:dev::meshstack-example::kubernetes:helm.sh/v3:Release::istiod"


def test_committed_schema_is_what_the_analyzer_infers() -> None:
    assert json.loads(SCHEMA.read_text()) == provider.schema(), "stale: run `make schema`"


def test_schema_lists_the_public_components_documented() -> None:
    schema = provider.schema()
    resources = schema["resources"]
    assert len(resources) >= 8
    assert set(resources) == {f"meshstack:index:{c.__name__}" for c in provider.PUBLIC}
    for token, spec in resources.items():
        assert spec["isComponent"] and spec["description"], token
        for kind in ("inputProperties", "properties"):
            for name, prop in spec[kind].items():
                assert prop.get("description"), f"{token}.{name} has no docstring"
    # Clusters hand out a Kubernetes provider other components take through their options.
    gke = resources["meshstack:index:GkeCluster"]["properties"]["provider"]
    assert gke["$ref"].endswith("#/resources/pulumi:providers:kubernetes")
    assert {d["name"] for d in schema["dependencies"]} == {"alicloud", "gcp", "kubernetes"}


def test_plugin_directory_runs_the_provider_with_python() -> None:
    plugin = yaml.safe_load((PLUGIN / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    # Pulumi runs `python <plugin directory> <engine address>`: __main__.py is the entry.
    assert "from meshstack.provider import main" in (PLUGIN / "__main__.py").read_text()
    # pip reads a requirement's path from the directory it runs in, the plugin's.
    requirements = (PLUGIN / "requirements.txt").read_text().split()
    editable = requirements[requirements.index("-e") + 1]
    assert (PLUGIN / editable.split("[")[0] / "pyproject.toml").is_file()


class MonitorService(resource_pb2_grpc.ResourceMonitorServicer):
    """The offline engine's recording mock monitor, served over gRPC like the engine's."""

    def __init__(self) -> None:
        self.monitor = RecordingMonitor(FakeCloud())
        # The calling program's provider, known to the monitor as if that program made it.
        self.monitor.resources[K8S_PROVIDER_URN] = MockMonitor.ResourceRegistration(
            K8S_PROVIDER_URN, "k8s-id", {}
        )

    def GetDeploymentInfo(self, request, context):
        return self.monitor.GetDeploymentInfo(request)

    def SupportsFeature(self, request, context):
        # MockMonitor answers with a plain object; gRPC needs the message.
        answer: Any = self.monitor.SupportsFeature(request)
        return resource_pb2.SupportsFeatureResponse(hasSupport=answer.hasSupport)

    def RegisterResource(self, request, context):
        return self.monitor.RegisterResource(request)

    def RegisterResourceOutputs(self, request, context):
        return self.monitor.RegisterResourceOutputs(request)

    def Invoke(self, request, context):
        return self.monitor.Invoke(request)

    def ReadResource(self, request, context):
        return self.monitor.ReadResource(request)

    def RegisterPackage(self, request, context):
        return self.monitor.RegisterPackage(request)


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _serve(calls) -> tuple[Any, MonitorService]:
    """Run `calls` against a served provider, in a thread of its own: the test's own event
    loop (which Pulumi's runtime in this process uses) stays as it was."""
    with futures.ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, _serve_async(calls)).result()


async def _serve_async(calls) -> tuple[Any, MonitorService]:
    service = MonitorService()
    monitor = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(service, monitor)
    monitor_port = monitor.add_insecure_port("127.0.0.1:0")
    monitor.start()
    server = grpc.aio.server()
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(
        ProviderServicer(provider.component_provider(), [], ""), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            result = await calls(stub, f"127.0.0.1:{monitor_port}")
    finally:
        await server.stop(None)
        monitor.stop(None)
    return result, service


def _construct(endpoint: str, type_: str, inputs: dict[str, Any], **fields: Any):
    return proto.ConstructRequest(
        project="meshstack-example",
        stack="dev",
        monitorEndpoint=endpoint,
        type=type_,
        name="example",
        inputs=_struct(inputs),
        **fields,
    )


def test_provider_answers_get_schema_and_constructs_over_grpc() -> None:
    async def calls(stub, endpoint):
        schema = await stub.GetSchema(proto.GetSchemaRequest(version=0))
        trust = await stub.Construct(
            _construct(
                endpoint, "meshstack:index:SharedRootOfTrust", {"clusters": ["east", "west"]}
            )
        )
        return json.loads(schema.schema), trust

    (schema, trust), service = _serve(calls)
    assert schema == json.loads(SCHEMA.read_text())
    assert trust.urn.endswith("meshstack:index:SharedRootOfTrust::example")
    state = rpc.deserialize_properties(trust.state, keep_unknowns=True)
    # The CA keys leave the provider as a secret.
    assert state["cacerts"][rpc._special_sig_key] == rpc._special_secret_sig
    assert set(state["cacerts"]["value"]) == {"east", "west"}
    # The root from the fake TLS provider (tools/offline/fakes.py).
    assert state["rootCertPem"] == "-----FAKE CERT example-root-cert-----\n"
    created = {(r.type, r.name) for r in service.monitor.recorded}
    assert ("tls:index/locallySignedCert:LocallySignedCert", "example-west-cert") in created


def test_constructed_bookinfo_uses_the_given_provider_and_only_its_pods_wait() -> None:
    """Providers and depends_on come through the request's options, as from any language."""

    async def calls(stub, endpoint):
        return await stub.Construct(
            _construct(
                endpoint,
                "meshstack:index:Bookinfo",
                {"namespace": "bookinfo", "reviewsVersions": ["v1"]},
                providers={"kubernetes": K8S_PROVIDER},
                dependencies=[ISTIOD],
            )
        )

    _, service = _serve(calls)
    children = [r for r in service.monitor.recorded if r.custom]
    assert {r.type for r in children} == {
        "kubernetes:apps/v1:Deployment",
        "kubernetes:core/v1:Service",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    }
    for child in children:
        assert child.provider == K8S_PROVIDER, child.name
        waits = ISTIOD in child.dependencies
        assert waits == (child.type == "kubernetes:apps/v1:Deployment"), child.name


def test_missing_required_input_is_refused_by_name() -> None:
    async def calls(stub, endpoint):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Construct(_construct(endpoint, "meshstack:index:GceVm", {"zone": "z"}))
        return refused.value

    refused, _ = _serve(calls)
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = dict(refused.trailing_metadata() or ())
    assert b"instanceName" in details["grpc-status-details-bin"]


# The type tokens the public components had in 0.1.0 (before Pulumi's index-module rule).
OLD_TYPES = {
    "AlicloudNetwork": "meshstack:alicloud:Network",
    "AckCluster": "meshstack:alicloud:AckCluster",
    "GcpNetwork": "meshstack:gcp:Network",
    "GkeCluster": "meshstack:gcp:GkeCluster",
    "GceVm": "meshstack:gcp:Vm",
    "SharedRootOfTrust": "meshstack:istio:SharedRootOfTrust",
    "EastWestGateway": "meshstack:istio:EastWestGateway",
    "Bookinfo": "meshstack:apps:Bookinfo",
    "HelloWorld": "meshstack:apps:HelloWorld",
}


@pytest.mark.parametrize("stack", ["vm", "multi-primary", "local"])
def test_public_components_keep_their_earlier_identity(engine, stack) -> None:
    """An alias of the 0.1.0 type: a deployed stack keeps the components and their children."""
    declared = engine.run(stack)
    public = [r for r in declared if r.type.startswith("meshstack:index:")]
    assert public
    for component in public:
        old = OLD_TYPES[component.type.rsplit(":", 1)[1]]
        assert {"spec": {"type": old, "parentUrn": ""}} in component.options.aliases, old
    assert set(OLD_TYPES) == {c.__name__ for c in provider.PUBLIC}


@pytest.mark.parametrize("name", ["root_cert_pem", "address", "subnetwork_ids", "a__b", "x_"])
def test_output_names_are_spelt_as_the_analyzer_spells_them(name: str) -> None:
    from pulumi.provider.experimental.util import camel_case

    from meshstack.options import camel_case as ours

    assert ours(name) == camel_case(name)
