"""What Alibaba Cloud offers, asked through its API before the program registers anything.

The config's checks (stacks/config/lookups.py) need these answers: the Kubernetes versions
ACK creates clusters with (cs DescribeKubernetesVersionMetadata: with no KubernetesVersion
and no Mode it lists the creatable ones), the ASM releases (servicemesh DescribeVersions:
VersionInfo[].Edition/Versions), a region's zones (vpc DescribeZones, ZoneType
AvailabilityZone), and the version an existing cluster or ASM instance of the stack runs (cs
DescribeClustersV1 `current_version`; servicemesh DescribeServiceMeshes
ServiceMeshInfo.Version): what exists keeps its version until the config asks for another.
Asked through Alibaba's official SDKs with the credentials the provider and ASM's client use
too (credentials.py). The SDKs are imported on first use; each answer is
asked once.
"""

from __future__ import annotations

import functools
from typing import Any

from meshstack.alicloud.credentials import AlibabaCredentials


class AlibabaCatalog:
    def __init__(self, credentials: AlibabaCredentials) -> None:
        self._credentials = credentials

    def _config(self, region: str) -> Any:
        return self._credentials.sdk_config(region)

    @functools.cache  # noqa: B019 (one catalog per program run)
    def ack_versions(self, region: str, profile: str) -> list[str]:
        from alibabacloud_cs20151215 import models
        from alibabacloud_cs20151215.client import Client

        client = Client(self._config(region))
        answer = client.describe_kubernetes_version_metadata(
            models.DescribeKubernetesVersionMetadataRequest(
                region=region, cluster_type="ManagedKubernetes", profile=profile
            )
        )
        return [m.version for m in answer.body or [] if m.version and m.creatable is not False]

    @functools.cache  # noqa: B019
    def asm_versions(self, region: str, edition: str) -> list[str]:
        from alibabacloud_servicemesh20200111.client import Client

        client = Client(self._config(region))
        info = client.describe_versions().body.version_info or []
        return [v for entry in info if entry.edition == edition for v in entry.versions or []]

    @functools.cache  # noqa: B019
    def alibaba_zones(self, region: str) -> list[str]:
        from alibabacloud_vpc20160428 import models
        from alibabacloud_vpc20160428.client import Client

        client = Client(self._config(region))
        answer = client.describe_zones(
            models.DescribeZonesRequest(region_id=region, zone_type="AvailabilityZone")
        )
        return [z.zone_id for z in answer.body.zones.zone or [] if z.zone_id]

    @functools.cache  # noqa: B019
    def ack_cluster_version(self, region: str, name: str) -> str | None:
        from alibabacloud_cs20151215 import models
        from alibabacloud_cs20151215.client import Client

        client = Client(self._config(region))
        answer = client.describe_clusters_v1(
            models.DescribeClustersV1Request(name=name, region_id=region, page_size=100)
        )
        # The name filter matches fuzzily; cluster names are unique per account.
        found = [c for c in answer.body.clusters or [] if c.name == name]
        return found[0].current_version if found else None

    @functools.cache  # noqa: B019
    def asm_mesh_version(self, region: str, name: str) -> str | None:
        from alibabacloud_servicemesh20200111 import models
        from alibabacloud_servicemesh20200111.client import Client

        client = Client(self._config(region))
        meshes = client.describe_service_meshes(models.DescribeServiceMeshesRequest())
        found = [
            m.service_mesh_info
            for m in meshes.body.service_meshes or []
            if m.service_mesh_info
            and m.service_mesh_info.name == name
            and m.service_mesh_info.region_id in (None, region)
        ]
        return found[0].version if found else None
