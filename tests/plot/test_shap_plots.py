"""SHAP plots: what is drawn matches the explanation (known answers), PNG output, errors."""

from __future__ import annotations

import io

import numpy as np
import pytest

from whylens import plot
from whylens.errors import BatchExplanationError, InputError, InputTypeError
from whylens.shap import ExactExplainer, TextMasker


def _f(A):
    """f = 3*x0*x1 + x2 - 0.5*x3 (x4 unused)."""
    return 3 * A[:, 0] * A[:, 1] + A[:, 2] - 0.5 * A[:, 3]


@pytest.fixture(scope="module")
def exp():
    rng = np.random.default_rng(0)
    bg, X = rng.normal(size=(8, 5)), rng.normal(size=(40, 5))
    return ExactExplainer(_f, bg, feature_names=["a", "b", "c", "d", "e"])(X)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    return data


def test_beeswarm_orders_features_by_mean_abs(exp):
    fig = plot.beeswarm(exp, max_display=3)
    ax = fig.axes[0]
    order = np.argsort(-np.abs(exp.values[:, 0]).mean(0))[:3]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [exp.feature_names[j] for j in order[::-1]]  # largest on top
    # each row's dots sit at the feature's SHAP values
    top = ax.collections[-1].get_offsets()[:, 0]
    np.testing.assert_allclose(np.sort(top), np.sort(exp.values[:, 0, order[0]]))
    _png(fig)


def test_global_bar_is_mean_abs_and_bar_dispatches_on_batches(exp):
    fig = plot.bar(exp, max_display=3)
    widths = sorted((p.get_width() for p in fig.axes[0].patches), reverse=True)
    imp = np.sort(np.abs(exp.values[:, 0]).mean(0))[::-1]
    np.testing.assert_allclose(widths[:3], imp[:3])
    np.testing.assert_allclose(widths[3], imp[3:].sum())  # "Sum of 2 other features"
    _png(fig)
    # a single instance still gives lime's local bar chart
    local = plot.bar(exp[0])
    np.testing.assert_allclose(sorted(p.get_width() for p in local.axes[0].patches),
                               np.sort(exp.values[0, 0]))


def test_waterfall_walks_from_base_to_output(exp):
    one = exp[3]
    fig = plot.waterfall(one, max_display=10)
    bars = fig.axes[0].patches
    widths = np.array([b.get_width() for b in bars])
    np.testing.assert_allclose(np.sort(widths), np.sort(one.values[0, 0]), atol=1e-12)
    lefts = np.array([b.get_x() for b in bars])
    np.testing.assert_allclose(lefts[0], one.base_values[0, 0])
    np.testing.assert_allclose(lefts[-1] + widths[-1], one.output[0, 0], atol=1e-10)
    _png(fig)
    small = plot.waterfall(one, max_display=3)  # two features and "3 other features"
    labels = [t.get_text() for t in small.axes[0].get_yticklabels()]
    assert labels[0] == "3 other features" and len(labels) == 3


def test_force_static_and_html(exp):
    one = exp[5]
    fig = plot.force(one)
    total = sum(p.get_width() for p in fig.axes[0].patches)
    np.testing.assert_allclose(total, np.abs(one.values[0, 0]).sum(), atol=1e-10)
    _png(fig)
    page = plot.force_html(one)
    assert "<script" not in page.lower() and "http" not in page
    widths = [float(w) for w in __import__("re").findall(r"flex:0 0 ([0-9.]+)%", page)]
    np.testing.assert_allclose(sum(widths), 100.0, atol=0.01)
    assert f"{one.output[0, 0]:.3g}" in page


def test_scatter_colours_by_strongest_interaction(exp):
    from whylens.plot._shap import strongest_interaction

    assert strongest_interaction(exp, 0) == 1  # a's effect depends on b
    assert strongest_interaction(exp, 1) == 0
    fig = plot.scatter(exp, "a")
    ax = fig.axes[0]
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], exp.data[:, 0])
    np.testing.assert_allclose(offsets[:, 1], exp.values[:, 0, 0])
    assert fig.axes[1].get_ylabel() == "b"  # the colour bar
    np.testing.assert_allclose(ax.collections[0].get_array(), exp.data[:, 1])
    _png(plot.scatter(exp, 2, color=None))


def test_heatmap_shows_values_and_output(exp):
    fig = plot.heatmap(exp, max_display=5)
    top, ax = fig.axes[0], fig.axes[1]
    M = ax.images[0].get_array()
    assert M.shape == (5, 40)
    np.testing.assert_allclose(np.sort(M.ravel()), np.sort(exp.values[:, 0].ravel()))
    np.testing.assert_allclose(np.sort(top.lines[0].get_ydata()), np.sort(exp.output[:, 0]),
                               atol=1e-10)
    _png(fig)


def test_text_plot_colours_tokens_by_sign():
    f = lambda t: np.array([[s.count("good") - s.count("bad") * 2.0] for s in t])  # noqa
    e = ExactExplainer(f, TextMasker())("a good film with a bad end")
    fig = plot.text(e)
    ax = fig.axes[0]
    boxes = {t.get_text(): t.get_bbox_patch() for t in ax.texts if t.get_bbox_patch()}
    good, bad = boxes["good"].get_facecolor(), boxes["bad"].get_facecolor()
    assert good[0] > good[2] and bad[2] > bad[0]  # red vs blue
    assert bad[3] > good[3]  # |bad| = 2 > |good| = 1: more opaque
    _png(fig)


@pytest.mark.parametrize("call,exc,match", [
    (lambda e: plot.waterfall(e), BatchExplanationError, "single-instance"),
    (lambda e: plot.force(e), BatchExplanationError, "single-instance"),
    (lambda e: plot.beeswarm(e, max_display=0), InputError, "max_display"),
    (lambda e: plot.scatter(e, "zz"), InputError, "feature: expected one of"),
    (lambda e: plot.beeswarm(e, ax="axes"), InputTypeError, "ax: expected a matplotlib Axes"),
    (lambda e: plot.text(e[0]), InputError, "exp: expected a text explanation"),
    (lambda e: plot.beeswarm("values"), InputTypeError, "exp: expected a whylens Explanation"),
])
def test_bad_inputs(exp, call, exc, match):
    with pytest.raises(exc, match=match):
        call(exp)


def test_several_outputs_need_a_label():
    e = ExactExplainer(lambda A: np.column_stack([A[:, 0], A[:, 1], A[:, 0] * A[:, 1]]),
                       np.zeros((1, 2)))(np.ones((3, 2)))
    with pytest.raises(InputError, match="pass label="):
        plot.beeswarm(e)
    fig = plot.beeswarm(e, label=2)
    assert len(fig.axes[0].get_yticklabels()) == 2
