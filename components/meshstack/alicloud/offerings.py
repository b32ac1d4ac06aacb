"""Alibaba Cloud's serverless Kubernetes offerings, by the word the config uses (pure data).

ACS (Container Compute Service) is `cs.ManagedKubernetes(profile="Acs")`: what a new account
can create. ASK (ACK Serverless) is `profile="Serverless"`: closed since 2025-02-17 to
accounts that never created one (ACK Serverless overview).
"""

from __future__ import annotations

PROFILES = {"acs": "Acs", "ask": "Serverless"}
# Managed (ACK Pro) clusters with node pools.
ACK_PROFILE = "Default"
