"""Schema checks of declared objects: Kubernetes OpenAPI (strict) and Istio's API."""
