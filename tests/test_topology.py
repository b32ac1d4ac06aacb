"""The pure multi-cluster decisions: who runs istiod, who reads whom, where gateways go."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshstack.istio.topology import MeshMember, MeshTopology, TopologyError


def primary(name: str, network: str = "net1") -> MeshMember:
    return MeshMember(name, network)


def remote(name: str, of: str, network: str = "net1") -> MeshMember:
    return MeshMember(name, network, "remote", of)


def test_multi_primary_on_one_network_reads_every_pair_and_needs_no_gateway():
    topology = MeshTopology((primary("a"), primary("b"), primary("c")))
    assert sorted(topology.remote_secrets()) == [
        ("a", "b"), ("a", "c"), ("b", "a"), ("b", "c"), ("c", "a"), ("c", "b"),
    ]  # fmt: skip
    assert not any(topology.needs_eastwest_gateway(n) for n in "abc")
    assert topology.model()["controlPlane"] == "multi-primary"
    assert topology.model()["network"] == "single network"


def test_primary_remote_on_one_network_exposes_istiod_only_at_the_primary():
    topology = MeshTopology((primary("a"), remote("b", of="a")))
    assert topology.primaries == ["a"]
    assert topology.remote_secrets() == [("b", "a")]  # the remote holds no secret
    assert topology.control_plane_of("b") == "a"
    assert topology.exposes_istiod("a") and not topology.exposes_istiod("b")
    assert not topology.exposes_services("a")
    assert (topology.needs_eastwest_gateway("a"), topology.needs_eastwest_gateway("b")) == (
        True,
        False,
    )
    assert topology.model()["controlPlane"] == "primary-remote"


def test_remote_on_another_network_runs_a_gateway_configured_by_its_primary():
    topology = MeshTopology((primary("a", "n1"), remote("b", of="a", network="n2")))
    assert topology.needs_eastwest_gateway("b") and not topology.exposes_services("b")
    assert topology.exposes_services("a") and topology.exposes_istiod("a")


def test_multi_network_puts_a_gateway_exposing_services_in_every_cluster():
    topology = MeshTopology((primary("a", "alibaba"), primary("b", "google")))
    assert topology.multi_network and topology.networks == ["alibaba", "google"]
    assert all(topology.exposes_services(n) and topology.needs_eastwest_gateway(n) for n in "ab")
    assert not topology.exposes_istiod("a")
    assert topology.model()["network"] == "multi-network"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ((primary("a"), primary("a")), "unique; repeated: ['a']"),
        ((remote("b", of="a"),), "at least one primary"),
        ((primary("a"), remote("b", of="c")), "names primary 'c', which is not a primary"),
        ((primary("a"), remote("b", of="a"), remote("c", of="b")), "names primary 'b'"),
        ((MeshMember("a", "n", "primary", "b"),), "cannot name a primary"),
    ],
)
def test_impossible_topologies_are_refused(members, message):
    with pytest.raises(TopologyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        MeshTopology(members)


@given(
    primaries=st.integers(1, 6),
    remotes=st.integers(0, 6),
    networks=st.integers(1, 3),
)
def test_secrets_grow_with_primaries_times_clusters(primaries, remotes, networks):
    members = [primary(f"p{i}", f"n{i % networks}") for i in range(primaries)]
    members += [remote(f"r{i}", "p0", f"n{i % networks}") for i in range(remotes)]
    topology = MeshTopology(tuple(members))
    total = primaries + remotes
    assert len(topology.remote_secrets()) == primaries * (total - 1)
    gateways = [n for n in topology.names if topology.needs_eastwest_gateway(n)]
    if topology.multi_network:
        assert gateways == topology.names
    else:
        assert gateways == (["p0"] if remotes else [])


def test_vms_make_their_cluster_expose_istiod_and_other_networks_reach_services():
    same = MeshTopology((primary("k", ""),), vm_networks=("",))
    assert same.exposes_istiod("k") and same.needs_eastwest_gateway("k")
    # A VM is not a remote cluster: istiod is not the chart's externalIstiod for it.
    assert not same.external_istiod("k") and not same.exposes_services("k")
    other = MeshTopology((primary("k", "cluster-net"),), vm_networks=("vm-net",))
    assert other.multi_network and other.exposes_services("k")
    assert not MeshTopology((primary("k", ""),)).needs_eastwest_gateway("k")
