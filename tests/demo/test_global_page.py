"""The global section of ``whylens demo``: its page, charts and results, in quick mode."""

from __future__ import annotations

import json

import numpy as np
import pytest

from whylens.demo import run_demo
from whylens.demo._global import N_PICKS, family_groups
from whylens.inspection import ALEResult, ImportanceResult, PartialDependenceResult

CHARTS = ("global_importance.png", "global_importance_groups.png", "global_pdp.png",
          "global_ale.png", "global_shap_beeswarm.png")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("global_demo")
    return run_demo(out, quick=True, progress=False, sections=["global"])


def _is_png(path) -> bool:
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_global_page_names_every_view_and_links_its_charts(demo):
    out = demo.out_dir
    for name in CHARTS + tuple(f"global_{i}.png" for i in range(N_PICKS)):
        assert _is_png(out / name), name
    page = (out / "global.html").read_text(encoding="utf-8")
    for name in CHARTS + tuple(f"global_{i}.png" for i in range(N_PICKS)):
        assert f"src='{name}'" in page
    for words in ("Permutation importance", "feature families", "PDP/ICE", "ALE",
                  "SHAP beeswarm", "Submodular pick", "href='index.html'"):
        assert words in page
    assert "<script" not in page.lower()
    index = demo.index_html.read_text(encoding="utf-8")
    assert "Global views, tabular: breast cancer diagnosis" in index
    assert "href='global.html'" in index and "src='global_pdp.png'" in index
    # the charts open the section, once, before the first pick (not inside it)
    section = index.index("<div class='wl-demo-section' id='global'>")
    first_pick = index.index("<div class='wl-demo-instance' id='global_0'>")
    assert section < index.index("src='global_pdp.png'") < first_pick
    assert index.count("src='global_pdp.png'") == 1
    assert "src='global_pdp.png'" not in demo.sections[-1].instances[0].fragment


def test_global_results_are_saved_and_read_back(demo):
    out = demo.out_dir / "explanations"
    imp = ImportanceResult.from_json((out / "global_importance.json").read_text("utf-8"))
    assert imp.names[:2] == ["mean radius", "mean texture"] and len(imp.names) == 30
    assert imp.raw.shape == (1, 30, 3)  # quick mode: 3 repeats
    np.testing.assert_allclose(imp.mean, imp.raw.mean(-1))
    groups = ImportanceResult.from_json(
        (out / "global_importance_groups.json").read_text("utf-8"))
    assert groups.names == ["mean", "error", "worst"]
    assert sorted(c for g in groups.groups for c in g) == list(range(30))
    pd = PartialDependenceResult.from_json((out / "global_pdp.json").read_text("utf-8"))
    top = [int(j) for j in np.argsort(-imp.mean[0], kind="stable")[:4]]
    assert [cols[0] for cols in pd.features] == top
    # the PD is the mean of the ICE curves
    for avg, ice in zip(pd.average, pd.individual, strict=True):
        np.testing.assert_allclose(avg, ice.mean(axis=1), atol=1e-12)
    ale = ALEResult.from_json((out / "global_ale.json").read_text("utf-8"))
    assert ale.target_names == ["benign"] and len(ale.effects) == 4
    shap = json.loads((out / "global_shap.json").read_text("utf-8"))
    assert shap  # a GlobalShap document


def test_submodular_pick_instances(demo):
    section = demo.summary["global"]
    assert len(section["instances"]) == N_PICKS
    assert section["accuracy"] > 0.9
    picked = [demo.explanations[f"global_{i}"] for i in range(N_PICKS)]
    for exp in picked:
        assert 1 in list(exp.labels) and exp.method.startswith("lime")


def test_family_groups_partition_the_breast_cancer_columns():
    from sklearn.datasets import load_breast_cancer

    names = list(load_breast_cancer().feature_names)
    groups = family_groups(names)
    assert list(groups) == ["mean", "error", "worst"]
    assert all(len(cols) == 10 for cols in groups.values())
    assert family_groups(["a", "b"]) == {}
