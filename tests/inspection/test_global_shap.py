"""Global SHAP summaries: known answers (a linear model's mean |SHAP|, per-class rows,
an interaction found by TreeSHAP), shap's input layouts, the plots and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError, SerializationError
from whylens.explanation import Explanation, Features
from whylens.inspection import GlobalShap, global_shap, summary_plot


@pytest.fixture(scope="module")
def linear_case():
    from sklearn.linear_model import LinearRegression

    from whylens.shap import LinearExplainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4)) * [1.0, 2.0, 0.5, 1.0]
    w = np.array([3.0, -1.0, 4.0, 0.0])
    model = LinearRegression().fit(X, X @ w + 1.0)
    exp = LinearExplainer(model, X)(X)
    return X, w, exp


def test_mean_abs_of_a_linear_model_is_the_closed_form(linear_case):
    X, w, exp = linear_case
    summary = global_shap(exp)
    expected = np.abs(w) * np.abs(X - X.mean(axis=0)).mean(axis=0)
    np.testing.assert_allclose(summary.mean_abs[0], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(summary.mean[0], 0.0, atol=1e-9)  # centred at the data mean
    assert [name for name, _ in summary.ranking()][:2] == ["x0", "x2"]
    assert summary.counts.tolist() == [400] and summary.mode == "regression"


def test_rows_count_for_the_label_they_explain():
    V = np.array([[[1.0, -2.0]], [[3.0, 0.0]], [[-5.0, 1.0]]])
    exp = Explanation(values=V, labels=np.array([[0], [1], [0]]), method="m",
                      features=Features(kind="tabular", names=["a", "b"]),
                      output_names=["no", "yes"])
    s = global_shap(exp)
    assert s.labels.tolist() == [0, 1] and s.label_names == ["no", "yes"]
    np.testing.assert_allclose(s.mean_abs, [[3.0, 1.5], [3.0, 0.0]])
    np.testing.assert_allclose(s.mean, [[-2.0, -0.5], [3.0, 0.0]])
    assert s.counts.tolist() == [2, 1]


def test_shap_layouts_agree():
    rng = np.random.default_rng(1)
    per_class = [rng.normal(size=(30, 5)) for _ in range(3)]
    data = rng.normal(size=(30, 5))
    a = global_shap(per_class, features=data)
    b = global_shap(np.stack(per_class, axis=2), features=data)
    np.testing.assert_array_equal(a.mean_abs, b.mean_abs)
    np.testing.assert_allclose(a.mean_abs[2], np.abs(per_class[2]).mean(axis=0))
    assert a.feature_names == [f"Feature {j}" for j in range(5)]
    shap = pytest.importorskip("shap")
    c = global_shap(shap.Explanation(values=np.stack(per_class, axis=2), data=data,
                                     feature_names=list("abcde")))
    np.testing.assert_array_equal(c.mean_abs, a.mean_abs)
    assert c.feature_names == list("abcde")
    pd = pytest.importorskip("pandas")
    d = global_shap(per_class[0], features=pd.DataFrame(data, columns=list("vwxyz")))
    assert d.feature_names == list("vwxyz")
    assert global_shap(per_class[0], features=list("vwxyz")).feature_names == list("vwxyz")


def test_interaction_summary_finds_the_product():
    from sklearn.ensemble import GradientBoostingRegressor

    from whylens.shap import TreeExplainer

    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(600, 4))
    y = 2 * X[:, 0] * X[:, 1] + X[:, 2]
    model = GradientBoostingRegressor(n_estimators=60, max_depth=3, random_state=0).fit(X, y)
    explainer = TreeExplainer(model)
    exp = explainer(X[:150])
    inter = explainer.shap_interaction_values(X[:150])
    s = global_shap(exp, interaction_values=inter)
    np.testing.assert_allclose(s.interaction[0], np.abs(inter).mean(axis=0))
    a, b, strength = s.top_interactions(k=1)[0]
    assert {a, b} == {"x0", "x1"} and strength > 0
    # Rows of interaction values sum to the SHAP values.
    np.testing.assert_allclose(inter.sum(axis=2), exp.values[:, 0], atol=1e-6)
    with pytest.raises(InputError, match="interaction_values"):
        global_shap(exp, interaction_values=inter[:, :3, :3])
    with pytest.raises(InputError, match="interaction_values"):
        global_shap(exp).top_interactions()


def test_summary_feeds_whylens_plot_bar_and_beeswarm(linear_case):
    _, _, exp = linear_case
    s = global_shap(exp)
    single = s.to_explanation()
    assert single.values.shape == (1, 1, 4) and single.method == "shap.global"
    fig = s.bar(max_display=4)
    widths = sorted((p.get_width() for p in fig.axes[0].patches), reverse=True)
    np.testing.assert_allclose(widths, sorted(s.mean_abs[0], reverse=True))
    fig = s.beeswarm(max_display=3)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[::-1] == [name for name, _ in s.ranking()[:3]]


def test_summary_plot_dot_and_bar(linear_case):
    _, _, exp = linear_case
    fig = summary_plot(exp, max_display=2)  # one output: the beeswarm
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["x2", "x0"]
    fig = summary_plot(exp.shap_values, features=exp.data, plot_type="bar")
    widths = sorted((p.get_width() for p in fig.axes[0].patches), reverse=True)
    np.testing.assert_allclose(widths, sorted(global_shap(exp).mean_abs[0], reverse=True))
    rng = np.random.default_rng(3)
    per_class = [rng.normal(size=(20, 3)) * s for s in (1.0, 2.0)]
    fig = summary_plot(per_class, feature_names=["a", "b", "c"])  # several: stacked bars
    patches = fig.axes[0].patches
    totals = {}
    for p in patches:
        totals[p.get_y()] = totals.get(p.get_y(), 0.0) + p.get_width()
    expected = np.abs(per_class[0]).mean(axis=0) + np.abs(per_class[1]).mean(axis=0)
    np.testing.assert_allclose(sorted(totals.values()), sorted(expected))
    fig = summary_plot(per_class, plot_type="dot", label=1)
    assert len(fig.axes[0].get_yticklabels()) == 3


def test_json_round_trip(linear_case):
    _, _, exp = linear_case
    s = global_shap(exp)
    back = GlobalShap.from_json(s.to_json())
    assert back.to_dict() == s.to_dict()
    assert back.explanation == exp
    light = global_shap(exp, keep_explanation=False)
    assert GlobalShap.from_json(light.to_json()).explanation is None
    with pytest.raises(InputError, match="explanation"):
        light.beeswarm()
    with pytest.raises(SerializationError, match="payload"):
        GlobalShap.from_json(exp.to_json())


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda e: summary_plot(e, plot_type="violin"), InputError, "plot_type"),
    (lambda e: summary_plot(e.shap_values, features=np.zeros((3, 4))), InputError, "features"),
    (lambda e: summary_plot(e, features=np.zeros((400, 4))), InputError, "features"),
    (lambda e: summary_plot(e, max_display=0), InputError, "max_display"),
    (lambda e: summary_plot("values"), InputTypeError, "explanation"),
    (lambda e: global_shap(np.zeros((2, 3, 4, 5))), InputError, "shap_values"),
    (lambda e: global_shap(np.array([[np.nan, 1.0]])), InputError, "shap_values"),
    (lambda e: global_shap(e.shap_values, feature_names=["a"]), InputError, "feature_names"),
    (lambda e: global_shap(e).ranking(label=3), InputError, "label"),
    (lambda e: global_shap(e).to_explanation("max"), InputError, "aggregate"),
])
def test_bad_input(linear_case, call, error, match):
    _, _, exp = linear_case
    with pytest.raises(error, match=match):
        call(exp)


def test_image_maps_are_refused():
    exp = Explanation(values=np.zeros((2, 1, 4, 4)), labels=[0], method="gradcam",
                      features=Features(kind="image", names=[]))
    with pytest.raises(InputError, match="explanation"):
        global_shap(exp)


def test_summary_plot_takes_shaps_class_names_and_show():
    rng = np.random.default_rng(4)
    per_class = [rng.normal(size=(10, 3)) for _ in range(2)]
    fig = summary_plot(per_class, class_names=["cat", "dog"], show=False)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["Class cat", "Class dog"]
    with pytest.raises(InputError, match="class_names"):
        summary_plot(per_class, class_names=["cat"])
