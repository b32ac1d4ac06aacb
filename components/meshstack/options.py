"""Resource options a component interprets itself."""

import copy
from typing import Any

import pulumi


def pods_wait_for(
    opts: pulumi.ResourceOptions | None,
) -> tuple[pulumi.ResourceOptions | None, Any]:
    """For an application component, `depends_on` is what its pods need (istiod ready, so
    that they are injected): returns the component's options without it, and it, for the
    children that run pods. Services and accounts then do not wait for it; a component's own
    `depends_on` would hold back every child (the SDK registers a child only once its parent
    is registered: pulumi/runtime/resource.py prepare_resource)."""
    if opts is None or opts.depends_on is None:
        return opts, None
    own = copy.copy(opts)
    own.depends_on = None
    # As given (a resource, a list, or an Output of one): ResourceOptions takes each form.
    return own, opts.depends_on
