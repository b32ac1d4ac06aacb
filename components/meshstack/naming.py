"""Replacing a resource whose name the cloud keeps unique.

Pulumi replaces a resource by creating the new one before deleting the old. Where the cloud
refuses a second resource of the same name (a GKE cluster or node pool, a subnet's range, a
key pair's name, one SNAT entry per vSwitch, …), that create fails with "already exists";
such resources are replaced by deleting the old one first instead. (pulumi-gcp already does
this for a fixed `name`: pulumi-terraform-bridge nameRequiresDeleteBeforeReplace; it is
stated here for every provider alike.) tests/test_replacements.py lists every resource type
the stacks create with how it is replaced.
"""

from __future__ import annotations

import pulumi

REPLACE_FIRST = pulumi.ResourceOptions(delete_before_replace=True)


def fixed_name(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """`opts` for a resource with a unique physical name: replaced delete-first."""
    return pulumi.ResourceOptions.merge(opts, REPLACE_FIRST)
