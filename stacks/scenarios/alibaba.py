"""What every Alibaba Cloud scenario starts from: the provider for its region."""

from __future__ import annotations

import pulumi_alicloud as alicloud


def alibaba_provider(region: str) -> alicloud.Provider:
    """Credentials come from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET); the
    region is the stack's, so one machine can deploy stacks in several regions."""
    return alicloud.Provider("alicloud", region=region)
