"""Resource options a component interprets itself."""

import copy
import inspect
from typing import Any

import pulumi


def renamed(opts: pulumi.ResourceOptions | None, old_type: str) -> pulumi.ResourceOptions:
    """Options that carry a component's earlier type token as an alias: a stack deployed
    before the rename keeps the component and its children (their URNs contain it)."""
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=old_type)])
    )


def camel_case(name: str) -> str:
    """A Python name as the component provider's schema spells it (the same rule as
    pulumi/provider/experimental/util.py camel_case; importing that package loads the whole
    provider host, 100 MB, into every program)."""
    first, *rest = name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def register_schema_outputs(component: pulumi.ComponentResource) -> None:
    """register_outputs with the outputs the component declares (its public annotations),
    by their schema names: the state a Python program records is what the component provider
    returns from Construct (pulumi/provider/experimental/component.py)."""
    names = [n for n in inspect.get_annotations(type(component)) if not n.startswith("_")]
    component.register_outputs(
        {
            camel_case(name): getattr(component, name)
            for name in names
            if getattr(component, name, None) is not None
        }
    )


def pods_wait_for(
    opts: pulumi.ResourceOptions | None,
) -> tuple[pulumi.ResourceOptions | None, Any]:
    """For an application component, `depends_on` is what its pods need (istiod ready, so
    that they are injected): returns the component's options without it, and it, for the
    children that run pods. Services and accounts then do not wait for it; a component's own
    `depends_on` would hold back every child (the SDK registers a child only once its parent
    is registered: pulumi/runtime/resource.py prepare_resource). Through the component
    provider the calling SDK has already waited for `depends_on` before Construct, so there
    everything waits (correct, only less parallel)."""
    if opts is None or opts.depends_on is None:
        return opts, None
    own = copy.copy(opts)
    own.depends_on = None
    # As given (a resource, a list, or an Output of one): ResourceOptions takes each form.
    return own, opts.depends_on
