"""The meshstack CrossGuard policy pack (see PulumiPolicy.yaml); rules in mesh_policies."""
