"""The Pulumi program: read the stack's config, validate it, run the scenario it names."""

from __future__ import annotations

import gc
import importlib
from types import ModuleType
from typing import Any

import pulumi
from pulumi.runtime.config import (
    CONFIG,
    get_config_env,
    get_config_secret_keys_env,
    is_config_secret,
)

from meshstack.alicloud.catalog import AlibabaCatalog
from meshstack.alicloud.credentials import AlibabaCredentials
from stacks import config as stack_config
from stacks.config import previous
from stacks.config.lookups import Catalog
from stacks.config.previous import Deployed, StackState
from stacks.state import CliStackState


def raw_config() -> dict[str, Any]:
    """All config of this stack: what `pulumi up` passes in the environment, plus what a test
    set with `set_all_config` (which wins, as it does for `pulumi.Config`)."""
    return {**get_config_env(), **CONFIG.get()}


# The module of each scenario (its `deploy`), imported when the stack runs it: a stack loads
# the provider SDK modules of its own clouds only (the public components' annotations import
# them when their module loads).
SCENARIOS: dict[str, str] = {
    "local": "stacks.scenarios.local",
    "single-cluster": "stacks.scenarios.single_cluster",
    "two-cluster-retention": "stacks.scenarios.two_cluster",
    "vm": "stacks.scenarios.vm",
    "multi-cluster": "stacks.scenarios.multi_cluster",
    "multi-mesh": "stacks.scenarios.multi_mesh",
    "external-control-plane": "stacks.scenarios.external_plane",
}


def import_scenario(module: str) -> ModuleType:
    """Import a scenario's module, which loads the provider SDK modules it uses (tens of
    thousands of classes and typing objects that live as long as the program), and leave
    those to no collection of the cyclic garbage collector: otherwise each full collection
    walks them all again, before and while the resources register (0.9 s of multi-primary's
    3.1 s). `gc.freeze` moves every object tracked so far out of the collector's reach
    (https://docs.python.org/3/library/gc.html#gc.freeze); the collection first keeps the
    garbage already made (config loading, an earlier run in the same process) out of it."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()  # an import makes almost no garbage: no collection during it
    try:
        return importlib.import_module(module)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def is_secret(key: str) -> bool:
    """Whether a config value was set with `--secret` (encrypted in the stack file)."""
    return is_config_secret(key) or key in get_config_secret_keys_env()


def run(catalog: Catalog | None = None, state: StackState | None = None) -> None:
    """`catalog`: who answers the cloud lookups (Alibaba's API unless given, e.g. a fake);
    `state`: who says what the stack's last `up` deployed (the Pulumi CLI unless given)."""
    raw = raw_config()
    if catalog is None:
        catalog = AlibabaCatalog(AlibabaCredentials.of(raw))
    state = state or CliStackState()
    try:
        config = stack_config.load(raw, catalog=catalog, is_secret=is_secret, state=state)
    except stack_config.ConfigError as err:
        # RunError ends the program with this message and no traceback; nothing was registered.
        raise pulumi.RunError(str(err)) from None
    for key, value in import_scenario(SCENARIOS[config.scenario]).deploy(config).items():
        pulumi.export(key, value)
    # What the next run compares with (stacks/config/previous.py).
    pulumi.export(previous.OUTPUT, previous.record(config, Deployed.of(state.deployed())))
