"""shap's everyday calls with only the import changed: Explainer, link="logit", per-call
nsamples, legacy force_plot / summary_plot over arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsRegressor

import whylens.shap as ws
from whylens import Explanation
from whylens.errors import InputError


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


def _brute_interventional(f, x, background):
    """Exact Shapley values of v(S) = mean over the background of f(x_S, b_rest)."""
    from itertools import combinations
    from math import factorial

    d = x.shape[0]
    phi = np.zeros(d)
    for i in range(d):
        others = [j for j in range(d) if j != i]
        for r in range(d):
            w = factorial(r) * factorial(d - r - 1) / factorial(d)
            for S in combinations(others, r):
                Z = background.copy()
                Z[:, list(S)] = x[list(S)]
                Zi = Z.copy()
                Zi[:, i] = x[i]
                phi[i] += w * (f(Zi).mean() - f(Z).mean())
    return phi


def test_explainer_picks_tree_for_a_forest_and_matches_brute_force(diabetes):
    X, y = diabetes
    model = RandomForestRegressor(10, max_depth=4, random_state=0).fit(X, y)
    explainer = ws.Explainer(model, X[:20])
    assert explainer.algorithm == "tree" and isinstance(explainer, ws.TreeExplainer)
    exp = explainer(X[100:101])
    np.testing.assert_allclose(np.squeeze(exp.values),
                               _brute_interventional(model.predict, X[100], X[:20]), atol=1e-9)


def test_explainer_picks_linear_exact_and_permutation(diabetes):
    X, y = diabetes
    lin = ws.Explainer(LinearRegression().fit(X, y), X[:50])
    assert lin.algorithm == "linear" and isinstance(lin, ws.LinearExplainer)
    knn = KNeighborsRegressor().fit(X, y)
    exact = ws.Explainer(knn.predict, X[:10])
    assert exact.algorithm == "exact" and isinstance(exact, ws.ExactExplainer)
    np.testing.assert_allclose(
        np.squeeze(exact(X[100:101]).values),
        _brute_interventional(knn.predict, X[100], X[:10]), atol=1e-8)
    wide = np.hstack([X, X[:, :3]])
    perm = ws.Explainer(lambda Z: Z.sum(1), wide[:10], seed=0)
    assert perm.algorithm == "permutation" and isinstance(perm, ws.PermutationExplainer)
    kern = ws.Explainer(knn.predict, X[:10], algorithm="kernel", nsamples=500)
    assert isinstance(kern, ws.KernelExplainer)


def test_explainer_equals_shap_where_both_are_exact(diabetes):
    shap = pytest.importorskip("shap")
    X, y = diabetes
    lin = LinearRegression().fit(X, y)
    ours = ws.Explainer(lin, X[:50])(X[100:104])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = shap.Explainer(lin, X[:50])(X[100:104])
    assert type(shap.Explainer(lin, X[:50])).__name__ == "LinearExplainer"
    np.testing.assert_allclose(np.squeeze(ours.values), theirs.values, atol=1e-8)
    knn = KNeighborsRegressor().fit(X, y)
    ours = ws.Explainer(knn.predict, X[:10])(X[100:102])
    theirs = shap.Explainer(knn.predict, X[:10])(X[100:102])
    assert type(shap.Explainer(knn.predict, X[:10])).__name__ == "ExactExplainer"
    np.testing.assert_allclose(np.squeeze(ours.values), theirs.values, atol=1e-8)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :6]
    model = LogisticRegression(max_iter=5000).fit(X, y)
    return X, model


def test_logit_link_values_add_up_in_log_odds(cancer):
    X, model = cancer
    exp = ws.ExactExplainer(model.predict_proba, X[:15], link="logit")(X[100:103])
    p = model.predict_proba(X[100:103])
    logodds = np.log(p) - np.log1p(-p)
    np.testing.assert_allclose(exp.output, logodds, atol=1e-10)
    np.testing.assert_allclose(exp.values.sum(-1) + exp.base_values, logodds, atol=1e-10)
    bg = model.predict_proba(X[:15]).mean(0)
    np.testing.assert_allclose(exp.base_values[0], np.log(bg) - np.log1p(-bg), atol=1e-12)
    assert exp.params["link"] == "logit"
    kernel = ws.KernelExplainer(model.predict_proba, X[:15], link="logit", nsamples=100)
    np.testing.assert_allclose(kernel(X[100:103]).values, exp.values, atol=1e-9)


def test_logit_link_kernel_equals_shap(cancer):
    shap = pytest.importorskip("shap")
    X, model = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = shap.KernelExplainer(model.predict_proba, X[:15], link="logit")
        sv = np.asarray(theirs.shap_values(X[100:103], nsamples=100, silent=True))
    ours = ws.KernelExplainer(model.predict_proba, X[:15], link="logit", nsamples=100)
    np.testing.assert_allclose(ours.shap_values(X[100:103]), sv, atol=1e-5)
    np.testing.assert_allclose(ours.expected_value, theirs.expected_value, atol=1e-12)


def test_per_call_nsamples_and_l1_reg(cancer):
    X, model = cancer
    explainer = ws.KernelExplainer(model.predict_proba, X[:10], nsamples=20, random_state=0)
    full = explainer.shap_values(X[100:101], nsamples=64, silent=True)
    exact = ws.ExactExplainer(model.predict_proba, X[:10]).shap_values(X[100:101])
    np.testing.assert_allclose(full, exact, atol=1e-10)
    assert explainer.nsamples == 20  # the explainer is unchanged
    sparse = explainer.shap_values(X[100:101], nsamples=64, l1_reg=2)
    assert (np.abs(sparse[..., 1]) > 0).sum() <= 2
    with pytest.raises(InputError, match="nsamples"):
        explainer.shap_values(X[100:101], nsamples=3)


@pytest.mark.parametrize("kwargs,match", [
    ({"link": "probit"}, "link"), ({"algorithm": "partition"}, "algorithm"),
])
def test_explainer_refusals(cancer, kwargs, match):
    X, model = cancer
    with pytest.raises(InputError, match=match):
        ws.Explainer(model.predict_proba, X[:10], **kwargs)


def test_explainer_needs_a_masker_except_for_trees(cancer, diabetes):
    _, model = cancer
    with pytest.raises(InputError, match="masker"):
        ws.Explainer(model.predict_proba)
    Xd, y = diabetes
    forest = RandomForestRegressor(5, max_depth=3, random_state=0).fit(Xd, y)
    assert ws.Explainer(forest).algorithm == "tree"
    with pytest.raises(InputError, match="link"):
        ws.Explainer(forest, Xd[:10], link="logit")


def test_legacy_force_plot_over_arrays(cancer):
    X, model = cancer
    explainer = ws.KernelExplainer(model.predict_proba, X[:10], nsamples=64)
    sv = explainer.shap_values(X[100:103])
    html = ws.force_plot(explainer.expected_value[1], sv[0, :, 1], X[100],
                         feature_names=[f"f{i}" for i in range(6)])
    assert "whylens-force" in html._repr_html_() and "f0" in str(html)
    fig = ws.force_plot(explainer.expected_value[1], sv[0, :, 1], X[100], matplotlib=True)
    assert fig.axes
    exp = explainer(X[100:101])
    assert "whylens-force" in str(ws.force_plot(exp))
    with pytest.raises(InputError, match="one row"):
        ws.force_plot(explainer.expected_value[1], sv[:, :, 1], X[100:103])
    with pytest.raises(InputError, match="base_value"):
        ws.force_plot(explainer.expected_value, sv[0, :, 1], X[100])


def test_legacy_summary_plot_over_arrays(cancer):
    X, model = cancer
    sv = ws.KernelExplainer(model.predict_proba, X[:10], nsamples=64).shap_values(X[100:130])
    fig = ws.summary_plot(sv[..., 1], X[100:130], feature_names=[f"f{i}" for i in range(6)])
    assert fig.axes
    assert isinstance(ws.ExactExplainer(model.predict_proba, X[:10])(X[100:102]), Explanation)
