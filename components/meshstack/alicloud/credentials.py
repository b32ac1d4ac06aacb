"""One source of Alibaba Cloud credentials for everything that calls Alibaba Cloud: the explicit
Pulumi provider, the catalog the config asks before anything is registered, and ASM's SDK
client in the dynamic resources.

The stack's config `alicloud:accessKey` / `secretKey` / `securityToken` (set with
`pulumi config set --secret`) when a key is there, else the environment's
ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN. With neither, every client uses its own
default chain (a CLI profile, an ECS RAM role, OIDC). An explicit provider reads no `alicloud:`
config of its own (only Pulumi's default provider does), and a dynamic provider sees the stack's
config only through `configure` (pulumi/pulumi#17673): so each is handed these credentials.

Pure: the SDKs and Pulumi are imported where a client or a provider argument is built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# Stack config keys (the provider's own names) and environment variables, per field.
CONFIG_KEYS = {
    "access_key_id": "alicloud:accessKey",
    "access_key_secret": "alicloud:secretKey",
    "security_token": "alicloud:securityToken",
}
ENVIRONMENT = {
    "access_key_id": "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "access_key_secret": "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "security_token": "ALIBABA_CLOUD_SECURITY_TOKEN",
}


class _Getter(Protocol):
    def get(self, key: str) -> Any: ...


# The stack's config by full key: a mapping, or a dynamic provider's `Config`.
ConfigSource = Mapping[str, Any] | _Getter


@dataclass(frozen=True, repr=False)
class AlibabaCredentials:
    access_key_id: str | None = None
    access_key_secret: str | None = None
    security_token: str | None = None

    @classmethod
    def of(
        cls, config: ConfigSource, environment: Mapping[str, str] | None = None
    ) -> AlibabaCredentials:
        """From the stack's config if it names a key, else from the environment: one source,
        never a key id from one and its secret from the other."""
        source: Any = config
        names = CONFIG_KEYS
        if not any(config.get(key) for key in CONFIG_KEYS.values()):
            source, names = os.environ if environment is None else environment, ENVIRONMENT
        return cls(**{field: source.get(name) or None for field, name in names.items()})

    def __repr__(self) -> str:
        # Never the secret in a traceback or a log line.
        return f"AlibabaCredentials(access_key_id={self.access_key_id!r}, explicit={self.explicit})"

    @property
    def explicit(self) -> bool:
        """A key pair is given (otherwise each client's default chain applies)."""
        return bool(self.access_key_id and self.access_key_secret)

    def provider_args(self) -> dict[str, Any]:
        """`alicloud.Provider` keyword arguments, each a secret; none for the default chain."""
        if not self.explicit:
            return {}
        import pulumi

        given = {
            "access_key": self.access_key_id,
            "secret_key": self.access_key_secret,
            "security_token": self.security_token,
        }
        return {name: pulumi.Output.secret(value) for name, value in given.items() if value}

    def sdk_config(self, region: str) -> Any:
        """An `alibabacloud_tea_openapi` Config for Alibaba's SDK clients: these credentials
        (an STS token makes them `sts`), or the default chain. Each SDK derives its endpoint from
        the region."""
        from alibabacloud_credentials.client import Client as Credentials
        from alibabacloud_credentials.models import Config as CredentialsConfig
        from alibabacloud_tea_openapi.models import Config

        if not self.explicit:
            return Config(credential=Credentials(), region_id=region)
        credential = CredentialsConfig(
            type="sts" if self.security_token else "access_key",
            access_key_id=self.access_key_id or "",
            access_key_secret=self.access_key_secret or "",
            security_token=self.security_token or "",
        )
        return Config(credential=Credentials(credential), region_id=region)
