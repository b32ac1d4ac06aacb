"""Every scenario's model, chosen by `meshstack:scenario`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, TypeAdapter

from stacks.config.external_plane import ExternalControlPlaneStack
from stacks.config.fields import (
    Model,
)
from stacks.config.local import LocalStack
from stacks.config.multi_cluster import MultiClusterStack
from stacks.config.multi_mesh import MultiMeshStack
from stacks.config.single_cluster import SingleClusterStack
from stacks.config.two_cluster import TwoClusterStack
from stacks.config.vm import VmStack

AnyStack = (
    LocalStack
    | SingleClusterStack
    | TwoClusterStack
    | VmStack
    | MultiClusterStack
    | ExternalControlPlaneStack
    | MultiMeshStack
)


StackConfig = Annotated[AnyStack, Field(discriminator="scenario")]


_STACK_ADAPTER: TypeAdapter[AnyStack] = TypeAdapter(StackConfig)


SCENARIO_MODELS: Mapping[str, type[Model]] = {
    "local": LocalStack,
    "single-cluster": SingleClusterStack,
    "two-cluster-retention": TwoClusterStack,
    "vm": VmStack,
    "multi-cluster": MultiClusterStack,
    "multi-mesh": MultiMeshStack,
    "external-control-plane": ExternalControlPlaneStack,
}


SCENARIOS = tuple(SCENARIO_MODELS)
