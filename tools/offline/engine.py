"""Run a whole stack program offline and record every resource it registers.

`run_stack("local")` reads `stacks/Pulumi.local.yaml`, installs fresh mocks (a recording
monitor and plausible fake cloud outputs), runs `stacks.program.run()` and returns a
`Declared` with each resource's type, name, inputs, parent, provider and dependencies, and
the stack outputs with their secrecy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import ROOT as ROOT_STACK
from pulumi.runtime.settings import get_root_resource

from stacks.config import PROJECT, ConfigError
from stacks.config.loading import HEADER as CONFIG_ERROR
from tools.offline.fakes import FakeCatalog, FakeCloud, FakeStackState
from tools.stack_file import stack_config, to_pulumi_strings

SECRET_SIG = {rpc._special_sig_key: rpc._special_secret_sig}


def merged_config(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`stacks/Pulumi.<stack>.yaml` (or `config`) with `overrides` put over its keys.

    Keys of `overrides` may be bare (`"istio"`) or namespaced (`"meshstack:istio"`).
    """
    values = dict(stack_config(stack) if config is None else config)
    for key, value in (overrides or {}).items():
        values[key if ":" in key else f"{PROJECT}:{key}"] = value
    return values


@dataclass(frozen=True)
class ResourceOptions:
    """The resource options the engine (and a policy pack) sees."""

    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    delete_before_replace: bool | None = None
    retain_on_delete: bool = False
    deleted_with: str = ""
    # customTimeouts.create ("" when unset: the provider's own default).
    create_timeout: str = ""
    # Earlier identities (aliasSpecs: name, type, parentUrn, … as set).
    aliases: tuple[dict[str, Any], ...] = ()
    # How many transforms it registers (callbacks the engine runs on it and its children).
    transforms: int = 0

    @classmethod
    def of(cls, request) -> ResourceOptions:
        return cls(
            protect=request.protect,
            ignore_changes=tuple(request.ignoreChanges),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            delete_before_replace=(
                request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None
            ),
            retain_on_delete=request.retainOnDelete,
            deleted_with=request.deletedWith,
            create_timeout=request.customTimeouts.create,
            aliases=tuple(json_format.MessageToDict(a) for a in request.aliases),
            transforms=len(request.transforms),
        )


@dataclass
class Resource:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent: str
    provider: str
    dependencies: list[str]
    custom: bool
    read: bool = False
    # Per input property, the resources its value was computed from (data flow); the rest of
    # `dependencies` are explicit `depends_on`.
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    options: ResourceOptions = field(default_factory=ResourceOptions)
    # Dotted input paths whose values were secret.
    secret_inputs: list[str] = field(default_factory=list)

    @property
    def provider_urn(self) -> str:
        # Provider references are "<urn>::<id>".
        return self.provider.rsplit("::", 1)[0] if self.provider else ""

    @property
    def flowing_dependencies(self) -> set[str]:
        """Dependencies its inputs are computed from (the data flow)."""
        return {u for urns in self.property_dependencies.values() for u in urns}

    @property
    def explicit_dependencies(self) -> set[str]:
        """Dependencies from `depends_on` (or a parent's), not from the data flow."""
        return set(self.dependencies) - self.flowing_dependencies

    @property
    def manifest(self) -> dict[str, Any]:
        """The Kubernetes object this resource applies (apiVersion/kind/metadata/spec/…)."""
        return {k: v for k, v in self.inputs.items() if not k.startswith("__")}


@dataclass
class Invoke:
    """A data-source call (`get_…`), with the provider it went through."""

    token: str
    args: dict[str, Any]
    provider: str

    @property
    def provider_urn(self) -> str:
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


@dataclass
class Declared:
    resources: list[Resource]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    invokes: list[Invoke] = field(default_factory=list)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    @property
    def created(self) -> list[Resource]:
        """The resources `pulumi up` creates (not components, not reads)."""
        return [r for r in self.resources if r.custom and not r.read]

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Resource:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources named {name!r}"
        return matches[0]

    @functools.cached_property
    def _deleted_after(self) -> dict[str, set[str]]:
        return {}

    @functools.cached_property
    def _by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.resources}

    def by_urn(self, urn: str) -> Resource:
        return self._by_urn[urn]

    def children_of(self, parent: Resource) -> list[Resource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def kube_objects(self) -> list[Resource]:
        """Resources that are Kubernetes objects (not providers, Helm releases or components)."""
        return [
            r
            for r in self.resources
            if r.type.startswith("kubernetes:")
            and r.custom
            and not r.read
            and r.type != "pulumi:providers:kubernetes"
            and not r.type.startswith("kubernetes:helm.sh/")
        ]

    def istio_objects(self) -> list[Resource]:
        return [r for r in self.kube_objects() if ".istio.io/" in r.type]

    def gateway_api_objects(self) -> list[Resource]:
        return [r for r in self.kube_objects() if ":gateway.networking.k8s.io/" in r.type]

    def mesh_namespaces(self) -> dict[tuple[str, str], str]:
        """(provider, namespace) pairs whose pods are in the mesh: "sidecar" or "ambient"."""
        found: dict[tuple[str, str], str] = {}
        for resource in self.kube_objects():
            if resource.type not in {
                "kubernetes:core/v1:Namespace",
                "kubernetes:core/v1:NamespacePatch",
            }:
                continue
            labels = resource.manifest.get("metadata", {}).get("labels") or {}
            key = (resource.provider_urn, resource.manifest["metadata"]["name"])
            if labels.get("istio.io/dataplane-mode") == "ambient":
                found[key] = "ambient"
            elif labels.get("istio-injection") == "enabled" or "istio.io/rev" in labels:
                found[key] = "sidecar"
        return found

    def ancestors(self, resource: Resource) -> list[Resource]:
        """Its parent components, nearest first (not the stack)."""
        found: list[Resource] = []
        while resource.parent in self._by_urn:
            resource = self._by_urn[resource.parent]
            found.append(resource)
        return found

    def dependencies(
        self, resource: Resource, edges: Callable[[Resource], Iterable[str]] | None = None
    ) -> set[str]:
        """What a resource waits for: its own dependencies and its ancestors' (the SDK registers
        a child once its parent is registered, and a component once its `depends_on` is done:
        pulumi/runtime/resource.py prepare_resource), or the subset `edges` picks of each."""
        pick = (lambda r: r.dependencies) if edges is None else edges
        return {u for r in (resource, *self.ancestors(resource)) for u in pick(r)}

    def depends_on(self, resource: Resource, target: Resource) -> bool:
        """True when `resource` waits for `target`, directly or through other resources."""
        seen: set[str] = set()
        todo = list(self.dependencies(resource))
        while todo:
            urn = todo.pop()
            if urn == target.urn:
                return True
            if urn in seen:
                continue
            seen.add(urn)
            todo.extend(self.dependencies(self.by_urn(urn)))
        return False

    def waits_for(
        self, resource: Resource, edges: Callable[[Resource], Iterable[str]] | None = None
    ) -> set[str]:
        """URNs a resource's create waits for: its dependencies (or the subset `edges` picks)
        and its provider; a component stands for every custom resource under it."""
        chosen = self.dependencies(resource, edges)
        direct = {*chosen, *([resource.provider_urn] if resource.provider else [])}
        waits: set[str] = set()
        for urn in direct:
            target = self.by_urn(urn)
            waits |= (
                {urn} if target.custom else {d.urn for d in self.descendants(target) if d.custom}
            )
        return waits

    def upstream(self, resource: Resource) -> set[str]:
        """Everything `resource`'s create waits for, transitively, providers included."""
        seen: set[str] = set()
        todo = list(self.waits_for(resource))
        while todo:
            urn = todo.pop()
            if urn not in seen:
                seen.add(urn)
                todo.extend(self.waits_for(self.by_urn(urn)))
        return seen

    def deleted_after(self, resource: Resource) -> set[str]:
        """URNs `pulumi destroy` deletes only once `resource` is gone: its provider, parent,
        dependencies (property dependencies are among them) and deletedWith, a component
        standing for itself and its children, transitively (pulumi/pulumi
        pkg/resource/graph/dependency_graph.go DependenciesOf, used by ScheduleDeletes in
        pkg/resource/deploy/step_generator.go: a resource is deleted in a round after every
        resource depending on it)."""
        if resource.urn in self._deleted_after:
            return self._deleted_after[resource.urn]
        seen: set[str] = set()
        todo = [resource]
        while todo:
            current = todo.pop()
            direct = {
                *current.dependencies,
                *([current.provider_urn] if current.provider else []),
                *([current.parent] if current.parent else []),
                *([current.options.deleted_with] if current.options.deleted_with else []),
            }
            for urn in direct - seen:
                if urn not in self._by_urn:  # the stack itself
                    continue
                seen.add(urn)
                target = self.by_urn(urn)
                todo.append(target)
                if not target.custom and urn != current.parent:
                    children = [d for d in self.descendants(target) if d.urn not in seen]
                    seen |= {d.urn for d in children}
                    todo.extend(children)
        self._deleted_after[resource.urn] = seen
        return seen

    def deleted_before(self, first: Resource, then: Resource) -> bool:
        """True when `pulumi destroy` finishes deleting `first` before it deletes `then`."""
        return then.urn in self.deleted_after(first)

    def descendants(self, component: Resource) -> list[Resource]:
        children = self.children_of(component)
        return [d for c in children for d in (c, *self.descendants(c))]

    def longest_chain(
        self,
        weight: Callable[[Resource], float] = lambda _: 1,
        edges: Callable[[Resource], Iterable[str]] | None = None,
    ) -> list[Resource]:
        """The heaviest sequence of resources that must be created one after another (each
        counts `weight`, 1 by default): a lower bound of `pulumi up` time, whatever the
        parallelism. `edges` restricts which dependencies count (default: all)."""
        memo: dict[str, tuple[float, list[Resource]]] = {}

        def heaviest(
            chains: Iterable[tuple[float, list[Resource]]],
        ) -> tuple[float, list[Resource]]:
            # Among equally heavy chains, the same one every run (registration order varies).
            return max(
                chains, key=lambda c: (c[0], len(c[1]), [r.urn for r in c[1]]), default=(0, [])
            )

        def chain(resource: Resource) -> tuple[float, list[Resource]]:
            if resource.urn not in memo:
                total, before = heaviest(
                    chain(self.by_urn(u)) for u in self.waits_for(resource, edges)
                )
                memo[resource.urn] = (total + weight(resource), [*before, resource])
            return memo[resource.urn]

        return heaviest(chain(r) for r in self.resources if r.custom)[1]


def _secret_paths(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        if all(value.get(k) == v for k, v in SECRET_SIG.items()):
            yield path
            return
        for key, item in value.items():
            yield from _secret_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _secret_paths(item, f"{path}[{i}]")


def _integral(value: Any) -> Any:
    """Protobuf carries every number as a float; give whole numbers back their int type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


class RecordingMonitor(MockMonitor):
    """MockMonitor that also keeps what MockResourceArgs leaves out: parent, provider,
    dependencies, and which inputs are secret."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[Resource] = []
        self.invokes: list[Invoke] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            raw = json_format.MessageToDict(request.object)
            self.recorded.append(
                Resource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=_integral(rpc.deserialize_properties_unwrap_secrets(request.object)[0]),
                    parent=request.parent,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    custom=request.custom,
                    secret_inputs=list(_secret_paths(raw)),
                    property_dependencies={
                        key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                    options=ResourceOptions.of(request),
                )
            )
        return response

    def Invoke(self, request):
        self.invokes.append(
            Invoke(
                token=request.tok,
                args=_integral(rpc.deserialize_properties_unwrap_secrets(request.args)[0]),
                provider=request.provider,
            )
        )
        return super().Invoke(request)

    def ReadResource(self, request):
        response = super().ReadResource(request)
        self.recorded.append(
            Resource(
                type=request.type,
                name=request.name,
                urn=response.urn,
                inputs={"id": request.id},
                parent=request.parent,
                provider=request.provider,
                dependencies=list(request.dependencies),
                custom=True,
                read=True,
            )
        )
        return response


class OfflineEngine:
    """Fresh Pulumi mocks (installed on construction) that run one stack program."""

    def __init__(
        self, stack: str = "test", *, preview: bool = False, project: str = PROJECT
    ) -> None:
        """`project`: another program's (what its `pulumi.Config()` reads)."""
        self.monitor = RecordingMonitor(FakeCloud())
        # The cloud lookups the config makes before anything is registered.
        self.catalog = FakeCatalog()
        # What the stack's last `up` deployed: nothing unless a test says so (a first `up`).
        self.state = FakeStackState()
        ROOT_STACK.set(None)  # a new root stack, so no export of an earlier run leaks in
        pulumi.runtime.set_mocks(
            self.monitor.mocks, project=project, stack=stack, preview=preview, monitor=self.monitor
        )

    def run(
        self,
        stack: str,
        overrides: Mapping[str, Any] | None = None,
        *,
        config: Mapping[str, Any] | None = None,
    ) -> Declared:
        """Evaluate `merged_config(stack, overrides, config)`."""
        from stacks.program import run  # the program reads config when it runs

        values = merged_config(stack, overrides, config)
        pulumi.runtime.set_all_config(to_pulumi_strings(values))
        try:
            return self.run_program(lambda: run(catalog=self.catalog, state=self.state))
        except pulumi.RunError as err:
            # The program's refusal of its config: the message alone, as `pulumi up` shows it.
            if str(err).startswith(CONFIG_ERROR):
                raise ConfigError(str(err)) from None
            raise

    def run_program(self, program: Callable[[], None]) -> Declared:
        """Run `program` (a stack program, or a test's own component set-up) to completion."""
        outputs: dict[str, Any] = {}
        secret_outputs: set[str] = set()

        async def capture(key: str, value: pulumi.Output[Any]) -> None:
            outputs[key] = await value.future()
            if await value.is_secret():
                secret_outputs.add(key)

        @pulumi.runtime.test
        def evaluate() -> pulumi.Output[Any]:
            program()
            # Mocks finish the root stack before the program runs: read its exports directly.
            exports = get_root_resource().outputs  # type: ignore[union-attr]
            return pulumi.Output.all(
                *(
                    pulumi.Output.from_input(capture(k, pulumi.Output.from_input(v)))
                    for k, v in exports.items()
                )
            )

        evaluate()
        return Declared(self.monitor.recorded, outputs, secret_outputs, self.monitor.invokes)


def run_stack(stack: str, overrides: Mapping[str, Any] | None = None) -> Declared:
    """One stack, evaluated with its own fresh mocks."""
    return OfflineEngine(stack).run(stack, overrides)
