"""What Alibaba Cloud offers, asked through its API before the program registers anything.

The config's checks (stacks/config/lookups.py) need three answers: the Kubernetes versions
ACK creates clusters with (cs DescribeKubernetesVersionMetadata: with no KubernetesVersion
and no Mode it lists the creatable ones), the ASM releases (servicemesh DescribeVersions:
VersionInfo[].Edition/Versions), and a region's zones (vpc DescribeZones, ZoneType
AvailabilityZone). Asked through Alibaba's official SDKs with the credentials the provider and
ASM's client use too (credentials.py). The SDKs are imported on first use; each answer is
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
