"""The pure parts of the chart checks: values usage (tools/values_usage.py) and chart sources
(tools/charts.py), without Helm."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import charts
from tools.values_usage import (
    ChartFields,
    FieldRule,
    Refused,
    classify,
    differences,
    dotted,
    flatten,
    leaves,
    with_changed,
    without,
)

VALUES = {"a": {"b": 1, "c": "x"}, "d": [1, 2], "e": {}, "f": True}


def test_leaves_are_scalars_lists_and_empty_mappings():
    assert dict(leaves(VALUES)) == {
        ("a", "b"): 1,
        ("a", "c"): "x",
        ("d",): [1, 2],
        ("e",): {},
        ("f",): True,
    }


def test_without_drops_the_leaf_and_parents_it_empties():
    assert without(VALUES, ("a", "b")) == {**VALUES, "a": {"c": "x"}}
    assert without({"a": {"b": 1}, "f": 1}, ("a", "b")) == {"f": 1}
    assert VALUES["a"] == {"b": 1, "c": "x"}  # the original is untouched


def test_with_changed_keeps_the_type_and_changes_the_value():
    changed = with_changed(VALUES, ("a", "b"))
    assert changed["a"]["b"] == 2
    assert with_changed(VALUES, ("a", "c"))["a"]["c"] == "xx"
    assert with_changed(VALUES, ("d",))["d"] == [1, 2, 2]
    assert with_changed(VALUES, ("e",))["e"] == {"x": "y"}
    assert with_changed(VALUES, ("f",))["f"] is False


def test_dotted_quotes_keys_with_dots():
    assert dotted(("grafana.ini", "auth.anonymous", "enabled")) == (
        '"grafana.ini"."auth.anonymous".enabled'
    )


def test_flatten_enters_yaml_config_map_entries_but_not_other_text():
    objects = [
        {
            "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "ns"},
            "data": {"config.yaml": "x:\n  y: 1\n", "grafana.ini": "[auth]\nenabled = true\n"},
        }
    ]
    flat = flatten(objects)
    assert flat[("ConfigMap", "ns", "cfg", "data", "config.yaml", "x", "y")] == 1
    assert flat[("ConfigMap", "ns", "cfg", "data", "grafana.ini")] == "[auth]\nenabled = true\n"


def test_checksum_annotations_are_no_difference_of_their_own():
    before = {("Deployment", "", "d", "annotations", "checksum/config"): "1", ("x",): 1}
    after = {("Deployment", "", "d", "annotations", "checksum/config"): "2", ("x",): 2}
    assert differences(before, after) == {("x",)}


def fake_chart(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Reads a.b into a Deployment, refuses a missing f, copies everything into a runtime
    config file and a debug ConfigMap, and reads nothing else."""
    if "f" not in values:
        raise Refused("f is required")
    copy = json.dumps(values)
    return [
        {
            "kind": "Deployment",
            "metadata": {"name": "app"},
            "replicas": values.get("a", {}).get("b"),
        },
        {"kind": "ConfigMap", "metadata": {"name": "app-config"}, "data": {"app.yaml": copy}},
        {"kind": "ConfigMap", "metadata": {"name": "values"}, "data": {"values": copy}},
    ]


def test_classify_tells_used_runtime_and_ignored_keys():
    values = {"a": {"b": 1, "c": "x"}, "f": True}
    fields = ChartFields(
        debug=(FieldRule("ConfigMap", "values", ("data",)),),
        runtime=(FieldRule("ConfigMap", "app-config", ("data", "app.yaml")),),
    )
    assert classify(fake_chart, values, fields) == {
        ("a", "b"): "used",  # the Deployment changes
        ("a", "c"): "runtime",  # only the config file a program reads changes
        ("f",): "used",  # Helm refuses the values without it
    }
    # Without the runtime rule, the config file counts as output like any other.
    assert classify(fake_chart, values, ChartFields(debug=fields.debug))[("a", "c")] == "used"
    # A debug copy is no effect: a key found only there is ignored.
    everything_debug = ChartFields(debug=(FieldRule("ConfigMap", "", ("data",)),))
    assert classify(fake_chart, values, everything_debug)[("a", "c")] == "ignored"


def test_classify_leaves_volatile_fields_out():
    values = {"a": {"b": 1}, "f": True}
    volatile = frozenset({("Deployment", "", "app", "replicas")})
    assert classify(fake_chart, values, volatile=volatile)[("a", "b")] == "used"  # config copy
    no_copies = ChartFields(debug=(FieldRule("ConfigMap", "", ("data",)),))
    assert classify(fake_chart, values, no_copies, volatile)[("a", "b")] == "ignored"


# --- chart sources ---------------------------------------------------------------------------


def write_chart(root: Path, name: str, version: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "Chart.yaml").write_text(yaml.safe_dump({"name": name, "version": version}))


def test_chart_source_is_the_folder_of_that_chart_at_that_version(tmp_path):
    write_chart(tmp_path, "grafana", "11.1.0")
    assert charts.chart_source("grafana", "11.1.0", tmp_path) == tmp_path / "grafana"
    with pytest.raises(charts.ChartUnavailable, match=r"grafana 11\.1\.0, but 11\.2\.0"):
        charts.chart_source("grafana", "11.2.0", tmp_path)
    with pytest.raises(charts.ChartUnavailable, match="make charts"):
        charts.chart_source("kiali-server", "2.29.0", tmp_path)


def test_unstamped_istio_charts_count_by_their_recorded_minor(tmp_path):
    write_chart(tmp_path, "istiod", "1.0.0")
    with pytest.raises(charts.ChartUnavailable):  # no provenance: not taken on trust
        charts.chart_source("istiod", "1.31.0", tmp_path)
    sources = {"istiod": {"version": "1.31 (release-1.31@a8d70121, after 1.31.0-rc.0)"}}
    (tmp_path / "SOURCES.json").write_text(json.dumps(sources))
    assert charts.chart_source("istiod", "1.31.2", tmp_path) == tmp_path / "istiod"
    with pytest.raises(charts.ChartUnavailable):
        charts.chart_source("istiod", "1.30.3", tmp_path)


def test_release_of_reads_https_and_oci_charts():
    common = {"name": "istiod", "version": "1.31.0", "namespace": "istio-system"}
    https = charts.Release.of(
        {**common, "chart": "istiod", "repositoryOpts": {"repo": "https://example.org/charts"}}
    )
    oci = charts.Release.of({**common, "chart": "oci://ghcr.io/istio/release/charts/istiod"})
    assert (https.chart, https.repository, https.values) == (
        "istiod",
        "https://example.org/charts",
        {},
    )
    assert (oci.chart, oci.repository) == ("istiod", "oci://ghcr.io/istio/release/charts")


def test_charts_with_random_functions_are_known(tmp_path):
    write_chart(tmp_path, "stable", "1.0.0")
    write_chart(tmp_path, "random", "1.0.0")
    (tmp_path / "stable" / "templates").mkdir()
    (tmp_path / "stable" / "templates" / "a.yaml").write_text("# rolled out now and then\n")
    (tmp_path / "random" / "templates").mkdir()
    (tmp_path / "random" / "templates" / "a.yaml").write_text("k: {{ randAlphaNum 10 }}\n")
    assert not charts.renders_differently_each_time(tmp_path / "stable")
    assert charts.renders_differently_each_time(tmp_path / "random")
