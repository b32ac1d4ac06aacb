"""Google Cloud floor: project APIs, network, GKE, Compute Engine VMs, firewalls, secrets.

Nothing here knows about Istio: scenarios hand in what a VM runs and which ports open.
"""
