"""The typed config model: each user mistake gives one clear message and registers nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Strict

from stacks import config as stack_config
from stacks.config import ConfigError, LocalStack, load
from stacks.config.fields import Model
from stacks.config.stack import SCENARIO_MODELS
from tests.config_mistakes import SCENARIO_MISTAKES, cluster, raw
from tests.config_mistakes_found import FOUND
from tests.config_mistakes_multi_mesh import MULTI_MESH_MISTAKES

BAD_CONFIGS = SCENARIO_MISTAKES + FOUND + MULTI_MESH_MISTAKES

each_bad_config = pytest.mark.parametrize(
    ("config", "fragments"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)


@each_bad_config
def test_bad_config_is_refused_with_a_clear_message(config, fragments):
    with pytest.raises(ConfigError) as caught:
        load(config)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"
    assert "Traceback" not in message and "pydantic" not in message
    # In a user's words: no Python or pydantic internals, no value echoed at length.
    for internal in ("None", "Input should", "Value error", "validation error", "[type="):
        assert internal not in message, f"{internal!r} in:\n{message}"
    assert all(len(line) < 400 for line in message.splitlines()), message


@each_bad_config
def test_bad_config_registers_no_resource(engine, config, fragments):
    with pytest.raises(Exception) as caught:
        engine.run("local", config=config)
    assert fragments[0] in str(caught.value)
    assert engine.monitor.recorded == []


def test_defaults_are_the_seed_values():
    stack = load(raw())
    assert isinstance(stack, LocalStack)
    assert stack.istio.version == "1.31.0"
    assert stack.istio.profile == "demo"
    assert stack.istio.hub == "docker.io/istio"
    assert stack.istio.image_tag == "1.31.0"
    assert stack.istio.chart_repository == "https://blob.istio.io/istio-release/charts"
    assert stack.bookinfo.reviews_versions == ["v1", "v2", "v3"]


def test_values_are_read_from_pulumi_strings():
    stack = load(
        raw(istio={"cni": True, "egressGateway": False}, kubernetes={"context": "kind-kind"})
    )
    assert isinstance(stack, LocalStack)
    assert stack.istio.cni is True and stack.istio.egress_gateway is False
    assert stack.kubernetes.context == "kind-kind"


def _models(model: type[Model], seen: set[type[Model]]) -> set[type[Model]]:
    """`model` and every model its fields hold, however nested (lists, optionals)."""
    seen.add(model)
    for info in model.model_fields.values():
        for found in _nested_types(info.annotation):
            if isinstance(found, type) and issubclass(found, Model) and found not in seen:
                _models(found, seen)
    return seen


def _nested_types(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _nested_types(arg)


def _lax_bool(annotation: Any, metadata: Sequence[Any]) -> bool:
    """Whether a `bool` inside `annotation` is validated without Strict."""
    if annotation is bool:
        return not any(isinstance(m, Strict) for m in metadata)
    inner = getattr(annotation, "__metadata__", None)
    args: tuple[Any, ...] = getattr(annotation, "__args__", ())
    if inner is not None:  # Annotated[T, ...]: its metadata applies to T
        return _lax_bool(args[0], [*metadata, *inner])
    return any(_lax_bool(arg, ()) for arg in args)


def test_every_boolean_setting_takes_true_or_false_only():
    """A new plain `bool` field would take "yes" or 1 again: every one is `Flag` (strict)."""
    lax = [
        f"{model.__name__}.{name}"
        for root in SCENARIO_MODELS.values()
        for model in _models(root, set())
        for name, info in model.model_fields.items()
        if _lax_bool(info.annotation, info.metadata)
    ]
    assert lax == []


def test_other_namespaces_are_left_to_their_providers():
    assert (
        load({**raw(), "kubernetes:context": "x", "alicloud:region": "us-west-1"}).scenario
        == "local"
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=12,
)
known_keys = st.sampled_from(
    [
        *("scenario", "istio", "bookinfo", "kubernetes", "network", "cluster", "x"),
        *("clusters", "controlPlane", "asm", "retention", "meshId"),
        *("gcp", "mesh", "vm", "helloWorld"),
    ]
)
sections = st.fixed_dictionaries(
    {},
    optional={
        "istio": st.fixed_dictionaries(
            {}, optional={k: json_values for k in ("version", "mtls", "cni", "revision", "hub")}
        ),
        "bookinfo": st.fixed_dictionaries(
            {},
            optional={
                "reviewsVersions": st.lists(st.sampled_from(["v1", "v2", "v3", "v9"])),
                "routing": st.sampled_from(sorted(stack_config.ROUTING_NEEDS)) | json_values,
            },
        ),
        "clusters": st.lists(
            st.builds(
                cluster,
                name=st.sampled_from(["m1c1", "m1c2", "M1"]),
                index=st.integers(0, 2),
                gateway=st.booleans(),
                pod=st.sampled_from([None, "10.10.0.0/16", "192.168.0.0/20", "10.0.0.1/8"]),
            ),
            max_size=3,
        ),
        "retention": st.fixed_dictionaries(
            {}, optional={"services": st.lists(st.sampled_from(["*", "reviews", "x"]))}
        ),
        "gcp": st.fixed_dictionaries(
            {},
            optional={
                "region": st.sampled_from(["us-west1", "europe-west1", "us-west-1"]),
                "zone": st.sampled_from(["us-west1-b", "europe-west1-c", "b"]),
            },
        ),
        "mesh": st.fixed_dictionaries(
            {}, optional={"network": st.sampled_from(["", "network1"]) | json_values}
        ),
        "vm": st.fixed_dictionaries(
            {},
            optional={
                "network": st.sampled_from(["", "network2"]),
                "sshSourceRanges": st.lists(
                    st.sampled_from(["35.235.240.0/20", "0.0.0.0/0", "10.0.0.1/8"]), max_size=2
                ),
                "port": st.integers(-1, 70000),
            },
        ),
        "network": st.fixed_dictionaries(
            {},
            optional={
                "subnetCidr": st.sampled_from(["10.10.0.0/20", "10.20.0.0/16"]),
                "podCidr": st.sampled_from(["10.20.0.0/14", "10.10.0.0/16"]),
                "vpcCidr": st.sampled_from(["10.0.0.0/8", "192.168.0.0/16", "10.0.0.1/8", "x"]),
                "vswitches": st.lists(
                    st.fixed_dictionaries(
                        {
                            "zone": st.sampled_from(["us-west-1a", "cn-hangzhou-h"]),
                            "cidr": st.sampled_from(
                                ["192.168.0.0/19", "10.0.0.0/16", "172.21.0.0/20"]
                            ),
                        }
                    ),
                    max_size=3,
                ),
            },
        ),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scenario=st.sampled_from([*stack_config.SCENARIOS, "x"]) | json_values,
    extra=st.dictionaries(known_keys, json_values, max_size=3),
    body=sections,
)
def test_any_input_loads_or_fails_with_config_error(scenario, extra, body):
    values = {"scenario": scenario, **body, **extra}
    config = {
        f"meshstack:{k}": json.dumps(v)
        if isinstance(v, dict | list)
        else ("" if v is None else str(v))
        for k, v in values.items()
    }
    try:
        stack = load(config)
    except ConfigError as err:
        assert str(err).strip()
    else:
        assert stack.scenario in stack_config.SCENARIOS


@pytest.mark.parametrize(
    ("config", "enforced"),
    [
        (raw("local"), True),
        (raw("vm"), True),
        (raw("single-cluster"), False),
        # Another security key given: the default still follows the clusters.
        (raw("single-cluster", security={"imageDigests": {}}), False),
        (raw("two-cluster-retention"), False),
        (raw("single-cluster", security={"networkPolicies": False}), False),
    ],
)
def test_network_policies_default_to_where_the_clusters_enforce_them(config, enforced):
    assert load(config).security.network_policies is enforced
