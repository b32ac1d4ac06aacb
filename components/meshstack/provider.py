"""meshstack as a Pulumi component provider: programs in TypeScript, Go, C#, Java or YAML use
the public components through the SDKs `pulumi package add` generates from this provider.

The schema is inferred by Pulumi's analyzer from the components' type annotations and
docstrings (pulumi.provider.experimental); `provider/schema.json` is a committed copy that
tests/test_provider.py keeps current. Run by `provider/__main__.py` (PulumiPlugin.yaml).
"""

import json
import sys
from importlib.metadata import version

from pulumi.provider.experimental import component_provider_host
from pulumi.provider.experimental.component import ComponentProvider

from meshstack.alicloud.ack import AckCluster
from meshstack.alicloud.network import AlicloudNetwork
from meshstack.apps.bookinfo import Bookinfo
from meshstack.apps.hello_world import HelloWorld
from meshstack.gcp.gke import GkeCluster
from meshstack.gcp.network import GcpNetwork
from meshstack.gcp.vm import GceVm
from meshstack.istio.eastwest import EastWestGateway
from meshstack.istio.trust import SharedRootOfTrust

NAME = "meshstack"
# The public components: cloud floors, clusters, the mesh's root of trust, the east-west
# gateway and the sample applications. Each takes its cloud or Kubernetes provider and what it
# waits for through `opts`; scenario glue (which cluster reads which) stays in the stacks.
PUBLIC = (
    AlicloudNetwork,
    AckCluster,
    GcpNetwork,
    GkeCluster,
    GceVm,
    SharedRootOfTrust,
    EastWestGateway,
    Bookinfo,
    HelloWorld,
)


def component_provider() -> ComponentProvider:
    return ComponentProvider(list(PUBLIC), name=NAME, namespace=NAME, version=version(NAME))


def schema() -> dict:
    """The provider's schema, as GetSchema answers it."""
    text = component_provider().schema
    assert text, "the analyzer produced no schema"
    return json.loads(text)


def main() -> None:
    """`python -m meshstack.provider schema` prints the schema; with an engine address (how
    Pulumi starts a plugin) it serves the components."""
    if sys.argv[1:] == ["schema"]:
        print(json.dumps(schema(), indent=2, sort_keys=True))
        return
    component_provider_host(list(PUBLIC), name=NAME, namespace=NAME, version=version(NAME))


if __name__ == "__main__":
    main()
