"""Alibaba Cloud Service Mesh objects: the IstioGateway (istio.alibabacloud.com/v1beta1).

ASM does not publish the CRD's OpenAPI schema; this one is written from its field reference
(help.aliyun.com "CRD fields for an ASM gateway") and is strict: a field it does not list
fails, so a typo cannot pass.
"""

from __future__ import annotations

from typing import Any

import jsonschema

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

ISTIO_GATEWAY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "istio.alibabacloud.com/v1beta1"},
        "kind": {"const": "IstioGateway"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace"],
            "properties": {
                # ASM gateways only start in istio-system.
                "namespace": {"const": "istio-system"},
                "name": {"type": "string"},
                "labels": _STRING_MAP,
                "annotations": _STRING_MAP,
            },
        },
        "spec": {
            "type": "object",
            "required": ["gatewayType", "clusterIds", "ports"],
            "additionalProperties": False,
            "properties": {
                "gatewayType": {"enum": ["ingress", "egress"]},
                "clusterIds": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "serviceType": {"enum": ["LoadBalancer", "NodePort", "ClusterIP"]},
                "serviceAnnotations": _STRING_MAP,
                "externalTrafficPolicy": {"enum": ["Cluster", "Local"]},
                "replicaCount": {"type": "integer", "minimum": 0},
                "ports": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name", "port"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string"},
                            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                            "targetPort": {"type": "integer", "minimum": 0, "maximum": 65535},
                            "protocol": {"type": "string"},
                        },
                    },
                },
                "env": {"type": "array"},
                "podLabels": _STRING_MAP,
                "podAnnotations": _STRING_MAP,
                "resources": {"type": "object"},
                "cpu": {"type": "object"},
                "runAsRoot": {"type": "boolean"},
                "dnsPolicy": {"type": "string"},
                "hostNetwork": {"type": "boolean"},
                "configVolumes": {"type": "array"},
                "secretVolumes": {"type": "array"},
            },
        },
    },
}


def asm_errors(manifest: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(ISTIO_GATEWAY_SCHEMA)
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]
