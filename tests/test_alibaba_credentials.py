"""One source of Alibaba Cloud credentials (components/meshstack/alicloud/credentials.py): the
explicit provider, the catalog the config asks and ASM's SDK client get the same keys, from the
stack's config (secrets) or from the environment, and the keys stay secret."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.dynamic import Config, ConfigureRequest

from meshstack.alicloud.asm_resources import KubeconfigProvider, MemberProvider
from meshstack.alicloud.catalog import AlibabaCatalog
from meshstack.alicloud.credentials import ENVIRONMENT, AlibabaCredentials
from stacks import program
from stacks.config import ConfigError, load
from tools.offline.engine import merged_config, to_pulumi_strings
from tools.offline.fakes import FakeCatalog

STACK = "single-cluster"
IN_CONFIG = {
    "alicloud:accessKey": "LTAI-config",
    "alicloud:secretKey": "config-secret",
    "alicloud:securityToken": "config-token",
}
IN_ENVIRONMENT = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-env",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret",
    "ALIBABA_CLOUD_SECURITY_TOKEN": "env-token",
}
# (config, environment, the keys every consumer must use)
SOURCES = {
    "config": (IN_CONFIG, {}, ("LTAI-config", "config-secret", "config-token")),
    "environment": ({}, IN_ENVIRONMENT, ("LTAI-env", "env-secret", "env-token")),
    # The config names a key: it is the one source, not mixed with the environment's.
    "config over environment": (
        IN_CONFIG,
        IN_ENVIRONMENT,
        ("LTAI-config", "config-secret", "config-token"),
    ),
}


@pytest.fixture
def env(monkeypatch):
    """Sets the environment's Alibaba keys (none unless given)."""
    for name in ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)

    def set_env(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


@pytest.fixture(params=list(SOURCES.values()), ids=list(SOURCES))
def source(request, env) -> tuple[dict[str, str], tuple[str, str, str]]:
    """(the stack's config, the keys every consumer must use), the environment set."""
    config, environment, keys = request.param
    env(environment)
    return config, keys


def sdk_keys(sdk_config: Any) -> tuple[str, str, str]:
    """The keys an SDK client built from `sdk_config` signs with."""
    credential = sdk_config.credential.get_credential()
    return credential.access_key_id, credential.access_key_secret, credential.security_token


def test_the_catalog_signs_with_the_one_source(source):
    config, keys = source
    catalog = AlibabaCatalog(AlibabaCredentials.of(config))
    assert sdk_keys(catalog._config("us-west-1")) == keys


def test_asms_client_in_the_dynamic_provider_host_signs_with_the_one_source(source):
    """The host passes the stack's whole config to `configure` (pulumi/pulumi#17673), keys
    namespaced: nothing about credentials is in the resources' inputs or state."""
    config, keys = source
    for provider in (MemberProvider(), KubeconfigProvider()):
        provider.configure(
            ConfigureRequest(Config(raw_config=dict(config), project_name="meshstack"))
        )
        client = provider.api("us-west-1")._client  # type: ignore[attr-defined]
        credential = client._credential.get_credential()
        assert (
            credential.access_key_id,
            credential.access_key_secret,
            credential.security_token,
        ) == keys


def test_the_program_gives_the_provider_and_the_catalog_the_same_secret_keys(
    engine, monkeypatch, source
):
    config, keys = source
    catalogs: list[AlibabaCredentials] = []

    def catalog(credentials: AlibabaCredentials) -> FakeCatalog:
        catalogs.append(credentials)
        return engine.catalog

    monkeypatch.setattr(program, "AlibabaCatalog", catalog)
    values = to_pulumi_strings(merged_config(STACK, config))
    pulumi.runtime.set_all_config(values, secret_keys=list(config))
    declared = engine.run_program(lambda: program.run(state=engine.state))
    (provider,) = declared.of_type("pulumi:providers:alicloud")
    given = (
        provider.inputs["accessKey"],
        provider.inputs["secretKey"],
        provider.inputs["securityToken"],
    )
    assert given == keys
    assert {"accessKey", "secretKey", "securityToken"} <= set(provider.secret_inputs)
    (asked,) = catalogs
    assert (asked.access_key_id, asked.access_key_secret, asked.security_token) == keys


def test_without_keys_every_client_uses_its_own_default_chain(env):
    credentials = AlibabaCredentials.of({})
    assert not credentials.explicit
    assert credentials.provider_args() == {}
    chain = credentials.sdk_config("us-west-1").credential.cloud_credential
    assert chain.type_name == "default"  # alibabacloud_credentials' DefaultCredentialsProvider


def test_the_secret_never_shows_in_a_representation():
    credentials = AlibabaCredentials.of(IN_CONFIG)
    assert "config-secret" not in repr(credentials) and "config-token" not in repr(credentials)


@pytest.mark.parametrize("key", ["alicloud:accessKey", "alicloud:secretKey"])
def test_half_a_key_pair_in_config_is_refused(key):
    with pytest.raises(ConfigError) as caught:
        load({"meshstack:scenario": "local", key: "x"}, is_secret=lambda _key: True)
    assert f"{key} is set but" in str(caught.value)
