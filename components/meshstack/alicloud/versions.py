"""Version strings of ACK and ASM, compared as numbers (pure: no Pulumi, no cloud calls)."""

from __future__ import annotations

import re

# ASM gained cluster-local retention in this release.
MINIMUM_ASM_RELEASE = (1, 15, 3, 101)


def version_key(version: str) -> tuple[int, ...]:
    """(1, 36, 3, 1) of "1.36.3-aliyun.1": every number in the string, in order."""
    return tuple(int(part) for part in re.findall(r"[0-9]+", version))


def asm_release(version: str) -> tuple[int, ...]:
    """(1, 26, 3, 110) of "v1.26.3.110-g1a2b3c4d-aliyun" (the commit hash is not part of it)."""
    return version_key(version.lstrip("v").split("-")[0])
