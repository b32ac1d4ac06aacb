"""docs/teardown.md's account of Istio's CRDs, against the pinned `base` chart as the real Helm
renders the stacks' release: its CRDs are templates (no `crds/` folder, whose CRDs Helm would
skip when they exist), each annotated `helm.sh/resource-policy: keep` (Helm leaves it on
uninstall: helm v3.20 pkg/action/resource_policy.go), all named `*.istio.io`, which the page's
`grep` selects."""

from __future__ import annotations

import yaml

from meshstack import versions
from tests.conftest import rendered
from tools import charts
from tools.offline.engine import run_stack
from tools.stack_file import REPO_ROOT


def test_istios_crds_are_kept_on_uninstall_and_the_page_says_how_to_remove_them(helm):
    releases = [
        charts.Release.of(r.inputs) for r in run_stack("local").of_type(charts.RELEASE_TYPE)
    ]
    [base] = [r for r in releases if r.chart == "base"]
    objects = rendered(base)
    source = charts.chart_source(base.chart, versions.ISTIO)
    assert not (source / "crds").exists()
    shipped = [
        d for d in yaml.safe_load_all((source / "files" / "crd-all.gen.yaml").read_text()) if d
    ]
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    assert len(crds) == len(shipped) == 15
    assert {c["metadata"]["annotations"]["helm.sh/resource-policy"] for c in crds} == {"keep"}
    assert all(c["metadata"]["name"].endswith(".istio.io") for c in crds)
    page = (REPO_ROOT / "docs" / "teardown.md").read_text()
    assert f"Istio's {len(crds)} CustomResourceDefinitions" in page
    assert "kubectl get crd -o name | grep --color=never 'istio.io' | xargs kubectl delete" in page
    assert f"meta.helm.sh/release-name: {base.name}" in page
    assert f"meta.helm.sh/release-namespace: {base.namespace}" in page
