"""TreeExplainer: hand-computed trees, exact enumeration, agreement with shap, bad inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

pytest.importorskip("numba")

from whylens.errors import InputError, InputTypeError, ModelOutputError, NotSupportedError
from whylens.explanation import Explanation
from whylens.shap._tree import TreeExplainer

# ---------------------------------------------------------------------------- helpers


def _shapley(value_fn, d):
    """Exact Shapley values of the set function ``value_fn(mask) -> (k,)`` over d players."""
    masks = [np.array(bits, dtype=bool) for bits in itertools.product([0, 1], repeat=d)]
    vals = {m.tobytes(): np.asarray(value_fn(m), dtype=float) for m in masks}
    k = next(iter(vals.values())).shape[0]
    phi = np.zeros((d, k))
    for m in masks:
        s = int(m.sum())
        for i in range(d):
            if m[i]:
                continue
            w = math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d)
            with_i = m.copy()
            with_i[i] = True
            phi[i] += w * (vals[with_i.tobytes()] - vals[m.tobytes()])
    return phi


def _tree_expectation(tree, x, present):
    """E[tree(x) | x_S] by the tree's own cover (path-dependent), from sklearn's tree_."""
    t = tree.tree_

    def rec(n):
        if t.children_left[n] < 0:
            v = t.value[n][0] if t.value.shape[2] > 1 else t.value[n][:, 0]
            return v / v.sum() if t.value.shape[2] > 1 else v
        f = t.feature[n]
        lc, rc = t.children_left[n], t.children_right[n]
        if present[f]:
            return rec(lc if np.float32(x[f]) <= t.threshold[n] else rc)
        w = t.weighted_n_node_samples
        return (w[lc] * rec(lc) + w[rc] * rec(rc)) / w[n]

    return rec(0)


def _rf_path_dependent_value(model, x):
    def value(present):
        return np.mean([_tree_expectation(est, x, present) for est in model.estimators_], axis=0)

    return value


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    """scikit-learn's OpenMP threads spin against numba's on a busy machine (HistGradient-
    Boosting fit and predict took 10-50 s here); the tests need one."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def cls_data():
    X, y = make_classification(400, 6, n_informative=4, n_redundant=0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def cls3_data():
    X, y = make_classification(400, 6, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=1)
    return X, y


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(400, 6, n_informative=5, noise=1.0, random_state=0)
    return X, y


# ----------------------------------------------------------------- known answers by hand


def test_depth1_tree_by_hand():
    # x0 <= 0.5 -> 1 (3 rows), else 5 (1 row); x1 is never used.
    X = np.array([[0.0, 7.0], [0.0, 8.0], [0.0, 9.0], [1.0, 7.0]])
    y = np.array([1.0, 1.0, 1.0, 5.0])
    model = DecisionTreeRegressor(max_depth=1).fit(X, y)
    explainer = TreeExplainer(model)
    assert explainer.expected_value == pytest.approx(2.0, abs=1e-15)  # (3*1 + 5) / 4
    sv = explainer.shap_values(np.array([[1.0, 0.0], [0.0, 100.0]]))
    np.testing.assert_allclose(sv, [[3.0, 0.0], [-1.0, 0.0]], atol=1e-14)
    # interventional with background rows x0 = 0, 0, 1, 1: E = 3, phi0 = f(x) - 3
    bg = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    inter = TreeExplainer(model, bg)
    assert inter.expected_value == pytest.approx(3.0, abs=1e-15)
    np.testing.assert_allclose(inter.shap_values(np.array([[1.0, 5.0], [0.0, 5.0]])),
                               [[2.0, 0.0], [-2.0, 0.0]], atol=1e-14)


def test_depth2_tree_by_hand():
    # Cells (x0, x1) -> y with counts: (0,0)->0 x1, (0,1)->1 x2, (1,0)->10 x3, (1,1)->13 x4.
    cells = [((0, 0), 0.0, 1), ((0, 1), 1.0, 2), ((1, 0), 10.0, 3), ((1, 1), 13.0, 4)]
    X = np.array([c for c, _, n in cells for _ in range(n)], dtype=float)
    y = np.array([v for _, v, n in cells for _ in range(n)])
    model = DecisionTreeRegressor(max_depth=2).fit(X, y)
    assert model.tree_.feature[0] == 0  # root splits on x0
    v_empty = (0 * 1 + 1 * 2 + 10 * 3 + 13 * 4) / 10  # 8.4
    v_0 = (10 * 3 + 13 * 4) / 7  # x0 = 1 known: 82/7
    v_1 = 3 / 10 * 1.0 + 7 / 10 * 13.0  # x1 = 1 known, x0 by cover: 9.4
    v_01 = 13.0
    phi0 = 0.5 * ((v_0 - v_empty) + (v_01 - v_1))
    phi1 = 0.5 * ((v_1 - v_empty) + (v_01 - v_0))
    explainer = TreeExplainer(model)
    assert explainer.expected_value == pytest.approx(v_empty, abs=1e-14)
    np.testing.assert_allclose(explainer.shap_values(np.array([1.0, 1.0])), [phi0, phi1],
                               atol=1e-13)
    # Shapley interaction index of two players, split between [0, 1] and [1, 0]
    iv = explainer.shap_interaction_values(np.array([[1.0, 1.0]]))[0]
    np.testing.assert_allclose(iv[0, 1], 0.5 * (v_01 - v_0 - v_1 + v_empty), atol=1e-13)
    np.testing.assert_allclose(iv[1, 0], iv[0, 1], atol=1e-15)
    np.testing.assert_allclose(iv.sum(axis=1), [phi0, phi1], atol=1e-13)


def test_ensemble_matches_exact_enumeration_of_its_value_function():
    X, y = make_regression(300, 4, n_informative=4, random_state=3)
    X[:, 3] = np.round(X[:, 3])  # repeated splits on one feature along a path
    model = RandomForestRegressor(n_estimators=6, max_depth=6, random_state=0).fit(X, y)
    explainer = TreeExplainer(model)
    sv = explainer.shap_values(X[:6])
    for i in range(6):
        exact = _shapley(_rf_path_dependent_value(model, X[i]), 4)[:, 0]
        np.testing.assert_allclose(sv[i], exact, atol=1e-10, rtol=0)


def test_classifier_ensemble_matches_exact_enumeration(cls3_data):
    X, y = cls3_data
    X4 = X[:, :4]
    model = ExtraTreesClassifier(n_estimators=5, max_depth=7, random_state=0).fit(X4, y)
    sv = TreeExplainer(model).shap_values(X4[:4])  # (n, d, 3)
    for i in range(4):
        exact = _shapley(_rf_path_dependent_value(model, X4[i]), 4)
        np.testing.assert_allclose(sv[i], exact, atol=1e-10, rtol=0)


def test_interventional_matches_exact_enumeration_with_the_models_predict(reg_data):
    X, y = reg_data
    X5 = X[:, :5]
    model = GradientBoostingRegressor(n_estimators=20, max_depth=4, random_state=0)
    model.fit(X5, y)
    background = X5[200:260]
    sv = TreeExplainer(model, background).shap_values(X5[:3])
    for i in range(3):
        def value(mask, x=X5[i]):
            return [model.predict(np.where(mask, x, background)).mean()]

        np.testing.assert_allclose(sv[i], _shapley(value, 5)[:, 0], atol=1e-10, rtol=0)


def test_interventional_large_background_matches_exact_enumeration(cls_data):
    # 400 background rows: past the 100 rows where shap's interventional C++ goes wrong.
    X, y = cls_data
    X4 = X[:, :4]
    model = RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0).fit(X4, y)
    background = np.vstack([X4, X4[:, ::-1]])[:400]
    explainer = TreeExplainer(model, background)
    sv = explainer.shap_values(X4[:2])
    for i in range(2):
        def value(mask, x=X4[i]):
            return model.predict_proba(np.where(mask, x, background)).mean(axis=0)

        np.testing.assert_allclose(sv[i], _shapley(value, 4), atol=1e-10, rtol=0)
    np.testing.assert_allclose(explainer.expected_value,
                               model.predict_proba(background).mean(axis=0), atol=1e-12)


# ------------------------------------------------------------------ agreement with shap

_MODELS = {
    "rf-cls": lambda: RandomForestClassifier(n_estimators=8, max_depth=7, random_state=0),
    "rf-reg": lambda: RandomForestRegressor(n_estimators=8, random_state=0),
    "et-cls": lambda: ExtraTreesClassifier(n_estimators=8, random_state=0),
    "et-reg": lambda: ExtraTreesRegressor(n_estimators=8, max_depth=8, random_state=0),
    "gb-cls": lambda: GradientBoostingClassifier(n_estimators=15, random_state=0),
    "gb-reg": lambda: GradientBoostingRegressor(n_estimators=15, max_depth=4, random_state=0),
    "hgb-cls": lambda: HistGradientBoostingClassifier(max_iter=15, random_state=0),
    "hgb-reg": lambda: HistGradientBoostingRegressor(max_iter=15, random_state=0),
    "hgb-cls3": lambda: HistGradientBoostingClassifier(max_iter=8, random_state=0),
    "rf-cls3": lambda: RandomForestClassifier(n_estimators=5, random_state=0),
}


def _fit(name, cls_data, cls3_data, reg_data):
    data = cls3_data if name.endswith("3") else cls_data if "cls" in name else reg_data
    X, y = data
    return _MODELS[name]().fit(X, y), X


@pytest.mark.parametrize("name", sorted(_MODELS))
def test_path_dependent_agrees_with_shap(name, cls_data, cls3_data, reg_data):
    shap = pytest.importorskip("shap")
    model, X = _fit(name, cls_data, cls3_data, reg_data)
    ours = TreeExplainer(model)
    theirs = shap.TreeExplainer(model)
    rows = X[:40]
    sv = ours.shap_values(rows)
    ref = np.asarray(theirs.shap_values(rows))
    scale = max(1.0, float(np.abs(ref).max()))
    assert sv.shape == ref.shape
    np.testing.assert_allclose(sv, ref, atol=1e-9 * scale, rtol=0)
    np.testing.assert_allclose(ours.expected_value, theirs.expected_value, atol=1e-9 * scale)


@pytest.mark.parametrize("name", ["rf-cls", "rf-reg", "et-cls", "gb-cls", "gb-reg"])
def test_interventional_agrees_with_shap(name, cls_data, cls3_data, reg_data):
    # shap's interventional C++ is right only up to 100 background rows (shap#2487,
    # shap#3461) and carries single-precision error, ~1e-8 of the output scale: the
    # tolerance is that; exactness is the enumeration tests' job.
    shap = pytest.importorskip("shap")
    model, X = _fit(name, cls_data, cls3_data, reg_data)
    background = X[300:380]
    sv = TreeExplainer(model, background).shap_values(X[:30])
    theirs = shap.TreeExplainer(model, background, feature_perturbation="interventional")
    ref = np.asarray(theirs.shap_values(X[:30]))
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(sv, ref, atol=1e-6 * scale, rtol=0)


@pytest.mark.parametrize("name", ["rf-cls", "gb-reg", "hgb-cls3"])
def test_interaction_values_agree_with_shap_and_sum_to_shap_values(
        name, cls_data, cls3_data, reg_data):
    shap = pytest.importorskip("shap")
    model, X = _fit(name, cls_data, cls3_data, reg_data)
    ours = TreeExplainer(model)
    iv = ours.shap_interaction_values(X[:8])
    ref = np.asarray(shap.TreeExplainer(model).shap_interaction_values(X[:8]))
    scale = max(1.0, float(np.abs(ref).max()))
    assert iv.shape == ref.shape
    np.testing.assert_allclose(iv, ref, atol=1e-9 * scale, rtol=0)
    np.testing.assert_allclose(iv.sum(axis=2), ours.shap_values(X[:8]), atol=1e-12 * scale)
    np.testing.assert_allclose(iv, np.swapaxes(iv, 1, 2), atol=1e-12 * scale)


# ------------------------------------------------------------------- additivity, surface


@pytest.mark.parametrize("name", sorted(_MODELS))
@pytest.mark.parametrize("perturbation", ["tree_path_dependent", "interventional"])
def test_additivity_on_every_row(name, perturbation, cls_data, cls3_data, reg_data):
    model, X = _fit(name, cls_data, cls3_data, reg_data)
    data = X[300:350] if perturbation == "interventional" else None
    exp = TreeExplainer(model, data, feature_perturbation=perturbation)(X[:25])
    assert isinstance(exp, Explanation)
    total = exp.values.sum(axis=2) + exp.base_values
    scale = max(1.0, float(np.abs(exp.output).max()))
    np.testing.assert_allclose(total, exp.output, atol=1e-9 * scale, rtol=0)
    assert exp.params["efficiency_max_abs_error"] <= 1e-9 * scale


def test_explanation_surface_and_layouts(cls3_data):
    X, y = cls3_data
    model = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y)
    explainer = TreeExplainer(model, feature_names=[f"f{i}" for i in range(6)])
    exp = explainer(X[:5])
    assert exp.values.shape == (5, 3, 6)
    assert exp.base_values.shape == (5, 3)
    np.testing.assert_allclose(exp.output, model.predict_proba(X[:5]), atol=1e-15)
    assert exp.feature_names == [f"f{i}" for i in range(6)]
    assert exp.output_names == ["0", "1", "2"]
    np.testing.assert_array_equal(exp.data, X[:5])
    assert exp.method == "shap.tree" and exp.mode == "classification"
    sv = explainer.shap_values(X[:5])
    assert sv.shape == (5, 6, 3)
    np.testing.assert_array_equal(sv, np.moveaxis(exp.values, 1, -1))
    np.testing.assert_array_equal(explainer.shap_values(X[2]), sv[2])
    assert explainer.expected_value.shape == (3,)
    reg = TreeExplainer(DecisionTreeRegressor(max_depth=3).fit(X, y))
    assert isinstance(reg.expected_value, float)
    assert reg.shap_values(X[:3]).shape == (3, 6)
    assert reg.shap_interaction_values(X[:3]).shape == (3, 6, 6)


def test_rows_are_independent_of_threads_and_batching(reg_data):
    X, y = reg_data
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, y)
    one = TreeExplainer(model, n_jobs=1).shap_values(X[:21])
    many = TreeExplainer(model, n_jobs=-1).shap_values(X[:21])
    np.testing.assert_array_equal(one, many)
    singles = np.stack([TreeExplainer(model).shap_values(X[i]) for i in (0, 9, 20)])
    np.testing.assert_array_equal(singles, one[[0, 9, 20]])


def test_missing_values_follow_the_models_routing():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] + 2 * X[:, 1] * (X[:, 2] > 0)
    X[rng.random(X.shape) < 0.15] = np.nan
    model = HistGradientBoostingRegressor(max_iter=10, random_state=0).fit(X, y)
    for data in (None, X[:50]):
        exp = TreeExplainer(model, data)(X[50:80])  # the additivity check runs the model
        np.testing.assert_allclose(exp.values.sum(axis=2) + exp.base_values,
                                   model.predict(X[50:80])[:, None], atol=1e-9)
    shap = pytest.importorskip("shap")
    np.testing.assert_allclose(TreeExplainer(model).shap_values(X[50:80]),
                               shap.TreeExplainer(model).shap_values(X[50:80]), atol=1e-9)


def test_additivity_failure_is_reported(reg_data):
    X, y = reg_data
    explainer = TreeExplainer(DecisionTreeRegressor(max_depth=3).fit(X, y))
    explainer.expected_value_ = explainer.expected_value_ + 1e-6  # corrupt the base value
    with pytest.raises(ModelOutputError, match="gap"):
        explainer(X[:3])
    explainer.check_additivity = False
    assert explainer(X[:3]).values.shape == (3, 1, 6)


# ------------------------------------------------------------------------- bad inputs


def _fitted_tree():
    X, y = make_regression(50, 3, random_state=0)
    return DecisionTreeRegressor(max_depth=2).fit(X, y), X


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda m, X: TreeExplainer(LogisticRegression()), InputTypeError,
         "RandomForestClassifier.*HistGradientBoostingRegressor"),
        (lambda m, X: TreeExplainer(RandomForestRegressor()), InputError, "unfitted"),
        (lambda m, X: TreeExplainer(m)(X[:, :2]), InputError, r"shape \(n, 3\)"),
        (lambda m, X: TreeExplainer(m).shap_values(np.ones((2, 4))), InputError, "3 features"),
        (lambda m, X: TreeExplainer(m, feature_perturbation="interventional"), InputError,
         "data: expected background rows"),
        (lambda m, X: TreeExplainer(m, X[:, :2]), InputError, "data: expected"),
        (lambda m, X: TreeExplainer(m, feature_perturbation="conditional"), InputError,
         "feature_perturbation"),
        (lambda m, X: TreeExplainer(m, model_output="log_loss"), NotSupportedError,
         "interventional"),
        (lambda m, X: TreeExplainer(m, X, model_output="log_loss").shap_values(X[:2]),
         InputError, "y: expected the labels"),
        (lambda m, X: TreeExplainer(m, X, model_output="log_loss").shap_values(X[:2], [1.0]),
         InputError, "2 labels"),
        (lambda m, X: TreeExplainer(m, X, model_output="log_loss").expected_value, InputError,
         "depends on y"),
        (lambda m, X: TreeExplainer(m, model_output="probability"), InputError, "regressor"),
        (lambda m, X: TreeExplainer(m, model_output="margin"), InputError, "model_output"),
        (lambda m, X: TreeExplainer(m, n_jobs=0), InputError, "n_jobs"),
        (lambda m, X: TreeExplainer(m, X).shap_interaction_values(X[:2]), NotSupportedError,
         "tree_path_dependent"),
        (lambda m, X: TreeExplainer(m)(np.array([[1.0, np.inf, 0.0]])), InputError,
         "infinity"),
        (lambda m, X: TreeExplainer(m)([["a", "b", "c"]]), InputTypeError, "numeric"),
        (lambda m, X: TreeExplainer(m, feature_names=["a"]), InputError, "3 names"),
    ],
)
def test_bad_inputs(build, error, match):
    model, X = _fitted_tree()
    with pytest.raises(error, match=match):
        build(model, X)


def _rescaled_pair_shapley(raw, transform, x, background, d):
    """shap's definition for a transformed output: per reference r the exact Shapley
    values of ``raw(x_S, r_notS)``, scaled by ``(g(f(x)) - g(f(r))) / (f(x) - f(r))``,
    averaged over r."""
    fx = raw(x[None, :])[0]
    total = np.zeros(d)
    for r in background:
        phi = _shapley(lambda mask, r=r: [raw(np.where(mask, x, r)[None, :])[0]], d)[:, 0]
        fr = raw(r[None, :])[0]
        scale = 1.0 if fx == fr else (transform(fx) - transform(fr)) / (fx - fr)
        total += phi * scale
    return total / len(background)


def test_probability_of_boosted_classifier_matches_definition_and_shap(cls_data):
    X, y = cls_data
    X4 = X[:, :4]
    model = GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0)
    model.fit(X4, y)
    background = X4[300:312]
    explainer = TreeExplainer(model, background, model_output="probability")
    exp = explainer(X4[:3])
    sigmoid = lambda m: 1 / (1 + np.exp(-m))  # noqa: E731
    for i in range(3):
        expected = _rescaled_pair_shapley(model.decision_function, sigmoid, X4[i], background, 4)
        np.testing.assert_allclose(exp.values[i, 0], expected, atol=1e-10, rtol=0)
    np.testing.assert_allclose(exp.output[:, 0], model.predict_proba(X4[:3])[:, 1], atol=1e-12)
    np.testing.assert_allclose(explainer.expected_value,
                               model.predict_proba(background)[:, 1].mean(), atol=1e-12)
    shap = pytest.importorskip("shap")
    ref = shap.TreeExplainer(model, background, model_output="probability",
                             feature_perturbation="interventional").shap_values(X4[:3])
    np.testing.assert_allclose(exp.values[:, 0], ref, atol=1e-6)
    with pytest.raises(NotSupportedError, match="interventional"):
        TreeExplainer(model, model_output="probability")  # path-dependent: log-odds only


def test_log_loss_matches_definition(cls_data, reg_data):
    X, y = cls_data
    X4 = X[:, :4]
    model = GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0)
    model.fit(X4, y)
    background = X4[300:310]
    exp = TreeExplainer(model, background, model_output="log_loss")(X4[:3], y[:3])
    for i in range(3):
        loss = lambda m, t=y[i]: np.logaddexp(0, m) - t * m  # noqa: E731
        expected = _rescaled_pair_shapley(model.decision_function, loss, X4[i], background, 4)
        np.testing.assert_allclose(exp.values[i, 0], expected, atol=1e-10, rtol=0)
    p = model.predict_proba(X4[:3])[np.arange(3), y[:3]]
    np.testing.assert_allclose(exp.output[:, 0], -np.log(p), atol=1e-10)
    Xr, yr = reg_data
    reg = GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0)
    reg.fit(Xr[:, :4], yr)
    exp = TreeExplainer(reg, Xr[300:308, :4], model_output="log_loss")(Xr[:2, :4], yr[:2])
    np.testing.assert_allclose(exp.output[:, 0], (reg.predict(Xr[:2, :4]) - yr[:2]) ** 2,
                               rtol=1e-10)
    expected = _rescaled_pair_shapley(reg.predict, lambda m: (m - yr[0]) ** 2, Xr[0, :4],
                                      Xr[300:308, :4], 4)
    np.testing.assert_allclose(exp.values[0, 0], expected, rtol=1e-9, atol=1e-9)


def test_probability_output_refusals(cls_data, cls3_data):
    X, y = cls_data
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(  # forests' raw output already is the probability
        TreeExplainer(forest, model_output="probability").shap_values(X[:3]),
        TreeExplainer(forest).shap_values(X[:3]))
    X3, y3 = cls3_data
    multi = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X3, y3)
    with pytest.raises(NotSupportedError, match="one-output"):
        TreeExplainer(multi, X3[:20], model_output="probability")


def test_single_tree_classifier_is_read(cls_data):
    X, y = cls_data
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    exp = TreeExplainer(model)(X[:10])
    np.testing.assert_allclose(exp.values.sum(axis=2) + exp.base_values,
                               model.predict_proba(X[:10]), atol=1e-12)


def test_output_plots_and_round_trips_through_json(cls_data):
    import matplotlib

    matplotlib.use("Agg")
    from whylens import plot

    X, y = cls_data
    model = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    exp = TreeExplainer(model)(X[:30])
    back = Explanation.from_json(exp.to_json())
    np.testing.assert_array_equal(back.values, exp.values)
    np.testing.assert_array_equal(back.base_values, exp.base_values)
    assert back.params == exp.params
    # the waterfall walks from the base value to the model's log-odds, one bar per feature
    one = exp[0]
    bars = plot.waterfall(one, max_display=10).axes[0].patches
    widths = np.array([b.get_width() for b in bars])
    np.testing.assert_allclose(np.sort(widths), np.sort(one.values[0, 0]), atol=1e-12)
    np.testing.assert_allclose(bars[0].get_x(), one.base_values[0, 0])
    np.testing.assert_allclose(bars[-1].get_x() + widths[-1],
                               model.decision_function(X[:1])[0], atol=1e-9)
    for draw in (plot.beeswarm, plot.global_bar, plot.heatmap):
        draw(exp)


# ------------------------------------------------------------------ calling convention
@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    names = np.array(["cat", "dog", "eel"])[y]
    return X, RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, names)


@pytest.mark.parametrize("data", [False, True])
def test_target_per_row_by_name_and_predicted(three_classes, data):
    X, forest = three_classes
    explainer = TreeExplainer(forest, X[:40] if data else None)
    every = explainer(X[:6])
    target = [2, 0, 1, 1, 0, 2]
    per_row = explainer(X[:6], target=target)
    assert per_row.values.shape == (6, 1, 6) and per_row.labels[:, 0].tolist() == target
    np.testing.assert_array_equal(per_row.values[:, 0], every.values[np.arange(6), target])
    np.testing.assert_array_equal(per_row.base_values[:, 0],
                                  every.base_values[np.arange(6), target])
    for i, t in enumerate(target):
        np.testing.assert_array_equal(explainer(X[i : i + 1], target=t).values[0, 0],
                                      per_row.values[i, 0])
    dog = explainer(X[:6], target="dog")
    assert dog.labels.tolist() == [1]
    np.testing.assert_array_equal(dog.values[:, 0], every.values[:, 1])
    predicted = explainer(X[:6], target=None)
    np.testing.assert_array_equal(predicted.labels.reshape(-1),
                                  forest.predict_proba(X[:6]).argmax(1))
    assert explainer.shap_values(X[:6], target=target).shape == (6, 6)
    with pytest.raises(InputError, match="target: expected one target per row"):
        explainer(X[:6], target=[0, 1])


def test_row_passes_report_progress_and_cancel(three_classes, monkeypatch):
    import whylens.shap._tree as module
    from whylens.errors import Cancelled

    X, forest = three_classes
    explainer = TreeExplainer(forest, X[:30])
    ref = explainer(X[:50])
    monkeypatch.setattr(module, "ROW_BLOCK", 8)
    seen = []
    got = explainer(X[:50], callback=lambda d, t: seen.append((d, t)))
    assert got == ref  # the same values whatever the passes
    assert seen == [(min(50, 8 * i), 50) for i in range(1, 8)]
    with pytest.raises(Cancelled):
        explainer(X[:50], callback=lambda d, t: d < 16)


def test_dataframe_columns_by_name_and_no_feature_name_warning():
    import warnings

    pd = pytest.importorskip("pandas")
    X, y = make_regression(n_samples=200, n_features=4, random_state=1)
    df = pd.DataFrame(X, columns=["age", "bmi", "bp", "s1"])
    for model in (RandomForestRegressor(n_estimators=5, random_state=0).fit(df, y),
                  HistGradientBoostingRegressor(max_iter=5).fit(df, y),
                  GradientBoostingRegressor(n_estimators=5).fit(df, y)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "X does not have valid feature names"
            exp = TreeExplainer(model, df.iloc[:20])(df.iloc[:5])
            swapped = TreeExplainer(model, df.iloc[:20])(df.iloc[:5][["s1", "bp", "bmi", "age"]])
        assert exp.feature_names == ["age", "bmi", "bp", "s1"]
        np.testing.assert_array_equal(swapped.values, exp.values)
    with pytest.raises(InputError, match="X: expected the model's columns"):
        TreeExplainer(model)(df.iloc[:5, :3])


def test_tree_explainer_pickles(three_classes):
    import pickle

    X, forest = three_classes
    for explainer in (TreeExplainer(forest), TreeExplainer(forest, X[:30])):
        back = pickle.loads(pickle.dumps(explainer))
        assert back(X[:5], target=None) == explainer(X[:5], target=None)
