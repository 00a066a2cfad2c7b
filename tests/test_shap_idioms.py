"""shap's everyday idioms on whylens' Explanation, side by side with shap on the same inputs.

Each idiom (from shap's documentation: ``sv[0]``, ``sv[:, "bmi"]``, ``sv[..., k]``,
``sv[:, :, k]``, ``sv.abs.mean(0)``, ``shap.plots.scatter(sv[:, "bmi"], color=sv)`` ...) runs
on a whylens Explanation with only the import changed and gives shap's numbers and shapes:
whylens keeps ``values`` as (n, n_labels, n_features) and gives shap's arrays as
``shap_values`` / ``shap_base_values`` (the axes shap drops are dropped there) or as a real
``shap.Explanation`` through ``to_shap()``.

The peer values come from shap's KernelExplainer, which enumerates every coalition of the 5
features (2**5 < its sample budget), so both sides are exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import whylens.shap as ws
from whylens import Explanation, plot
from whylens.errors import BatchExplanationError, InputError, InputTypeError
from whylens.plot._shap_base import SHAP_NEGATIVE, SHAP_POSITIVE

shap = pytest.importorskip("shap")

NAMES = ["age", "sex", "bmi", "bp", "s1"]


def f1(A):
    """One output with interactions of bmi and bp, sex and s1."""
    A = np.asarray(A, dtype=float)
    return (2 * A[:, 2] + 1.5 * A[:, 2] * A[:, 3] - A[:, 0] + 0.5 * A[:, 4] ** 2
            + 0.7 * A[:, 1] * A[:, 4])


def f3(A):
    """Three class probabilities (a softmax)."""
    A = np.asarray(A, dtype=float)
    Z = np.column_stack([A[:, 0] - A[:, 1], A[:, 2] * A[:, 3] + A[:, 4], 0.5 * A[:, 1]])
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 5)), columns=NAMES)
    return X.iloc[:20], X.iloc[20:]


@pytest.fixture(scope="module")
def single(data):
    bg, X = data
    theirs = shap.KernelExplainer(f1, bg)(X)
    theirs.feature_names = NAMES
    ours = ws.Explainer(f1, bg)(X)
    return ours, theirs


@pytest.fixture(scope="module")
def multi(data):
    bg, X = data
    theirs = shap.KernelExplainer(f3, bg)(X)
    theirs.feature_names = NAMES
    ours = ws.Explainer(f3, bg, output_names=["Output 0", "Output 1", "Output 2"])(X)
    return ours, theirs


def _same(ours: Explanation, theirs, atol: float = 1e-9) -> None:
    """shap's arrays of ``ours`` equal ``theirs``' in shape and numbers."""
    assert ours.shap_values.shape == np.shape(theirs.values)
    np.testing.assert_allclose(ours.shap_values, theirs.values, atol=atol)
    assert np.shape(ours.shap_base_values) == np.shape(theirs.base_values)
    np.testing.assert_allclose(ours.shap_base_values, theirs.base_values, atol=atol)
    back = ours.to_shap()
    assert back.values.shape == np.shape(theirs.values)
    np.testing.assert_allclose(back.values, theirs.values, atol=atol)
    if theirs.data is not None and np.ndim(theirs.values) > 0:
        np.testing.assert_allclose(back.data, theirs.data)


def test_explainer_values_equal_shaps_in_shaps_layout(single, multi):
    for ours, theirs in (single, multi):
        _same(ours, theirs)
        assert ours.feature_names == NAMES
    ours, _ = single
    assert ours.values.shape == (40, 1, 5)  # whylens' own layout keeps the labels axis
    assert ours.shap_values.shape == (40, 5)  # shap's: (n, d) for one output
    assert multi[0].shap_values.shape == (40, 5, 3)


SINGLE_INDEXES = {
    "sv[0]": 0,
    "sv[-1]": -1,
    "sv[:, 'bmi']": (slice(None), "bmi"),
    "sv[:, 2]": (slice(None), 2),
    "sv[3:7]": slice(3, 7),
    "sv[0, 'bmi']": (0, "bmi"),
    "sv[2:9, ['bmi', 'bp']]": (slice(2, 9), ["bmi", "bp"]),
    "sv[..., 'bp']": (Ellipsis, "bp"),
    "sv[5, ...]": (5, Ellipsis),
}

MULTI_INDEXES = {
    "sv[:, :, 1]": (slice(None), slice(None), 1),
    "sv[..., 1]": (Ellipsis, 1),
    "sv[..., -1]": (Ellipsis, -1),
    "sv[0]": 0,
    "sv[0, :, 2]": (0, slice(None), 2),
    "sv[:, 'bmi']": (slice(None), "bmi"),
    "sv[:, 'bmi', 1]": (slice(None), "bmi", 1),
    "sv[4, 'bp', 0]": (4, "bp", 0),
    "sv[:, :, 'Output 2']": (slice(None), slice(None), "Output 2"),
}


@pytest.mark.parametrize("index", list(SINGLE_INDEXES.values()), ids=list(SINGLE_INDEXES))
def test_selection_single_output(single, index):
    ours, theirs = single
    _same(ours[index], theirs[index])


@pytest.mark.parametrize("index", list(MULTI_INDEXES.values()), ids=list(MULTI_INDEXES))
def test_selection_several_outputs(multi, index):
    ours, theirs = multi
    _same(ours[index], theirs[index])


def test_selection_keeps_whylens_layout(multi):
    ours, _ = multi
    assert ours[0].values.shape == (1, 3, 5)  # exp[i] is a batch of one
    assert ours[:, "bmi"].values.shape == (40, 3, 1)
    assert ours[..., 1].values.shape == (40, 1, 5)
    np.testing.assert_array_equal(ours[..., 1].values[:, 0], ours.values[:, 1])
    assert ours[..., 1].labels.tolist() == [1]
    # an output by name (shap raises on a name after an Ellipsis; whylens takes it)
    np.testing.assert_array_equal(ours[..., "Output 2"].shap_values, ours[:, :, 2].shap_values)


REDUCTIONS = {
    "sv.abs.mean(0)": lambda s: s.abs.mean(0),
    "sv.mean(0)": lambda s: s.mean(0),
    "sv.abs.max(0)": lambda s: s.abs.max(0),
    "sv.min(0)": lambda s: s.min(0),
    "sv.sum(0)": lambda s: s.sum(0),
    "sv[:, :, 1].abs.mean(0)": lambda s: s[:, :, 1].abs.mean(0),
    "sv[..., 2].abs": lambda s: s[..., 2].abs,
}


@pytest.mark.parametrize("reduce", list(REDUCTIONS.values()), ids=list(REDUCTIONS))
def test_reductions(single, multi, reduce):
    for ours, theirs in (single, multi):
        if "[" in next(k for k, v in REDUCTIONS.items() if v is reduce) and ours is single[0]:
            continue  # the output index applies to the three-output model only
        mine, peer = reduce(ours), reduce(theirs)
        assert mine.shap_values.shape == np.shape(peer.values)
        np.testing.assert_allclose(mine.shap_values, peer.values, atol=1e-9)
        if peer.base_values is not None:
            np.testing.assert_allclose(mine.shap_base_values, peer.base_values, atol=1e-9)


@pytest.mark.parametrize("index", [None, 0, (slice(None), "bmi"), (3, Ellipsis),
                                   (slice(None), slice(None), 1), (Ellipsis, 2),
                                   (0, slice(None), 1), "mean"])
def test_from_shap_keeps_shaps_shapes(single, multi, index):
    for ours, theirs in (single, multi):
        if ours is single[0] and isinstance(index, tuple) and len(index) == 3:
            continue
        if index == "mean":
            peer = theirs.abs.mean(0)
        else:
            peer = theirs if index is None else theirs[index]
        mine = Explanation.from_shap(peer)
        assert mine.values.ndim == 3 and mine.method == "shap"
        _same(mine, peer)


def test_from_shap_of_a_whole_batch_equals_whylens(multi):
    ours, theirs = multi
    mine = Explanation.from_shap(theirs)
    np.testing.assert_allclose(mine.values, ours.values, atol=1e-9)
    np.testing.assert_allclose(mine.base_values, ours.base_values, atol=1e-9)
    np.testing.assert_allclose(mine.data, ours.data)
    assert mine.feature_names == NAMES and mine.labels.tolist() == [0, 1, 2]
    np.testing.assert_allclose(mine.output, f3(theirs.data), atol=1e-9)  # efficiency


# ------------------------------------------------------------------ plots
def _bars(fig):
    return sorted(p.get_width() for p in fig.axes[0].patches)


def test_shap_plots_namespace_runs_shaps_calls(single):
    """shap's plot calls with ``import whylens.shap as shap``: same names, show= accepted."""
    ours, theirs = single
    sp = ws.plots
    for sv in (ours, theirs):  # a whylens or a shap Explanation
        fig = sp.waterfall(sv[0], max_display=10, show=False)
        np.testing.assert_allclose(sorted(p.get_width() for p in fig.axes[0].patches),
                                   np.sort(ours.shap_values[0]), atol=1e-9)
        np.testing.assert_allclose(_bars(sp.bar(sv[0], show=False)),
                                   np.sort(ours.shap_values[0]), atol=1e-9)
        glob = sp.bar(sv, show=False)
        np.testing.assert_allclose(_bars(glob), np.sort(np.abs(ours.shap_values).mean(0)),
                                   atol=1e-9)
        np.testing.assert_allclose(_bars(sp.bar(sv.abs.mean(0), show=False)),
                                   np.sort(np.abs(ours.shap_values).mean(0)), atol=1e-9)
        sp.beeswarm(sv, show=False)
        sp.heatmap(sv, show=False)
        html = str(sp.force(sv[0]))
        assert "base value" in html and "f(x)" in html
    legacy = sp.force(theirs.base_values[0], theirs.values[0], theirs.data[0],
                      feature_names=NAMES)
    assert f"{f1(theirs.data[:1])[0]:.3g}" in str(legacy)


def test_scatter_color_sv_picks_shaps_interaction(single, multi):
    cases = [(single[0], single[1]), (multi[0][..., 1], multi[1][..., 1])]
    for ours, theirs in cases:
        for name in NAMES:
            j = NAMES.index(name)
            pick = shap.utils.approximate_interactions(j, theirs.values, theirs.data)[0]
            for sv in (ours, theirs):
                fig = plot.scatter(sv[:, name], color=sv)
                if pick == j:
                    assert len(fig.axes) == 1
                    continue
                points = fig.axes[0].collections[0]
                np.testing.assert_allclose(points.get_offsets()[:, 0], theirs.data[:, j])
                np.testing.assert_allclose(points.get_offsets()[:, 1], theirs.values[:, j],
                                           atol=1e-9)
                np.testing.assert_allclose(points.get_array(), theirs.data[:, pick])
                assert fig.axes[1].get_ylabel() == NAMES[pick]  # the colour bar's label


def test_scatter_color_by_a_column_a_name_or_a_colour(single):
    ours, _ = single
    fig = plot.scatter(ours[:, "bmi"], color=ours[:, "age"])
    np.testing.assert_allclose(fig.axes[0].collections[0].get_array(), ours.data[:, 0])
    fig = plot.scatter(ours, "bmi", color="s1")
    np.testing.assert_allclose(fig.axes[0].collections[0].get_array(), ours.data[:, 4])
    fig = plot.scatter(ours[:, "bmi"], color="#1E88E5")  # shap's default: one colour
    assert len(fig.axes) == 1
    np.testing.assert_allclose(fig.axes[0].collections[0].get_facecolor()[0][:3],
                               [0x1E / 255, 0x88 / 255, 0xE5 / 255])


def test_bar_of_one_shap_instance_is_shaps_style(single):
    from matplotlib.colors import to_rgba

    ours, _ = single
    fig = plot.bar(ours[0])
    ax = fig.axes[0]
    colors = [p.get_facecolor() for p in ax.patches]
    for p, c in zip(ax.patches, colors, strict=True):
        assert c == to_rgba(SHAP_POSITIVE if p.get_width() > 0 else SHAP_NEGATIVE)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    top = NAMES[int(np.argmax(np.abs(ours.shap_values[0])))]
    assert ticks[0].endswith(f" = {top}")  # "<value> = <name>", largest on top
    assert ax.get_xlabel() == "SHAP value"
    # after abs / a mean, names only (shap shows no data values there)
    ticks = [t.get_text() for t in plot.bar(ours.abs.mean(0)).axes[0].get_yticklabels()]
    assert set(ticks) == set(NAMES)
    # a batch of three features beyond max_display: the rest summed in one bar
    small = plot.bar(ours[0], max_display=3)
    labels = [t.get_text() for t in small.axes[0].get_yticklabels()]
    assert labels[-1] == "Sum of 3 other features"
    order = np.argsort(-np.abs(ours.shap_values[0]))
    np.testing.assert_allclose(small.axes[0].patches[-1].get_width(),
                               ours.shap_values[0][order[2:]].sum(), atol=1e-12)


def test_bar_of_shaps_mean_shows_names_only(single):
    _, theirs = single
    ticks = [t.get_text() for t in plot.bar(theirs.abs.mean(0)).axes[0].get_yticklabels()]
    assert set(ticks) == set(NAMES)
    ticks = [t.get_text() for t in plot.bar(theirs[0]).axes[0].get_yticklabels()]
    assert all(" = " in t for t in ticks)


def test_force_takes_shaps_arrays(single):
    """``whylens.plot.force(base_value, shap_values, features)`` as shap's ``force``."""
    ours, theirs = single
    base, row, x = theirs.base_values[0], theirs.values[0], theirs.data[0]
    fig = plot.force(base, row, x)
    widths = [p.get_width() for p in fig.axes[0].patches]
    np.testing.assert_allclose(sum(abs(w) for w in widths), np.abs(row).sum(), atol=1e-9)
    same = plot.force(ours[0])
    np.testing.assert_allclose(sorted(p.get_width() for p in same.axes[0].patches),
                               sorted(widths), atol=1e-9)
    with pytest.raises(InputError, match="shap_values: expected the values of one row"):
        plot.force(base, theirs.values[:3], theirs.data[:3])


def test_from_shap_refuses_images_and_text():
    from whylens.errors import NotSupportedError

    image = shap.Explanation(values=np.zeros((2, 8, 8, 3)), base_values=np.zeros(2))
    with pytest.raises(NotSupportedError, match=r"explanation: expected a shap\.Explanation of "
                                                r"tabular values"):
        Explanation.from_shap(image)
    ragged = shap.Explanation(values=np.array([np.zeros(3), np.zeros(5)], dtype=object),
                              base_values=np.zeros(2))
    with pytest.raises(NotSupportedError, match="ragged"):
        Explanation.from_shap(ragged)


def test_bar_of_a_lime_instance_keeps_limes_style():
    from matplotlib.colors import to_rgba

    from whylens.explanation import Features
    from whylens.plot._bar import NEGATIVE_COLOR, POSITIVE_COLOR

    lime = Explanation(values=np.array([[[0.5, -0.2]]]), labels=[1], method="lime.tabular",
                       features=Features(kind="tabular", names=["a", "b"]))
    ax = plot.bar(lime).axes[0]
    assert {p.get_facecolor() for p in ax.patches} == {to_rgba(POSITIVE_COLOR),
                                                       to_rgba(NEGATIVE_COLOR)}
    assert ax.get_title().startswith("Local explanation")


# ------------------------------------------------------------------ bad inputs
BAD = {
    "unknown feature name": (lambda s: s[:, "height"], InputError,
                             r"index \(features\): expected one of \['age'.*got 'height'"),
    "feature index out of range": (lambda s: s[:, 7], InputError,
                                   r"index \(features\): expected an index in \[-5, 5\)"),
    "output index out of range": (lambda s: s[..., 3], InputError,
                                  r"index \(labels\): expected an explained output position "
                                  r"in \[-3, 3\), got 3"),
    "output index out of range, explicit": (lambda s: s[:, :, -4], InputError,
                                            r"index \(labels\).*got -4"),
    "unknown output name": (lambda s: s[:, :, "dog"], InputError,
                            r"index \(labels\): expected one of \['Output 0'"),
    "two ellipses": (lambda s: s[..., 0, ...], InputError, r"index: expected at most one"),
    "too many keys": (lambda s: s[0, 0, 0, 0, ...], InputError, r"index: expected at most 3"),
    "reduce features": (lambda s: s.mean(1), InputError, r"axis: expected 0"),
    "scatter unknown feature": (lambda s: plot.scatter(s, "height", label=1), InputError,
                                r"feature: expected one of"),
    "scatter needs a feature": (lambda s: plot.scatter(s, label=1), InputError,
                                r"feature: expected a feature name or index"),
    "scatter unknown colour": (lambda s: plot.scatter(s[:, "bmi"], color="height", label=1),
                               InputError, r"color: expected 'auto', a feature name"),
    "scatter colour of other rows": (lambda s: plot.scatter(s[:, "bmi"], color=s[:5],
                                                            label=1),
                                     InputError, r"color: expected an explanation of the same "
                                     r"40 rows"),
    "plot of no explanation": (lambda s: plot.waterfall([1, 2]), InputTypeError,
                               r"exp: expected a whylens Explanation or a shap.Explanation"),
    "from_shap of no shap object": (lambda s: Explanation.from_shap(s), InputTypeError,
                                    r"explanation: expected a shap.Explanation"),
}


@pytest.mark.parametrize("call,exc,match", list(BAD.values()), ids=list(BAD))
def test_bad_inputs(multi, call, exc, match):
    ours, _ = multi
    with pytest.raises(exc, match=match):
        call(ours)


@pytest.mark.parametrize("view", ["waterfall", "force"])
def test_batch_error_names_a_call_that_exists(single, view):
    ours, _ = single
    with pytest.raises(BatchExplanationError) as info:
        getattr(plot, view)(ours)
    message = str(info.value)
    assert f"whylens.plot.{view}(exp[0])" in message
    assert f"exp[0].{view}(" not in message
    assert not hasattr(ours[0], view)  # there is no such method; the hint does not name one


def test_the_shap_view_survives_pickle(multi):
    import pickle

    ours, _ = multi
    for sub in (ours[0], ours[:, "bmi"], ours[..., 1], ours.abs.mean(0)):
        back = pickle.loads(pickle.dumps(sub))
        assert back == sub
        np.testing.assert_array_equal(back.shap_values, sub.shap_values)
