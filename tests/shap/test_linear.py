"""LinearExplainer: closed forms, logistic regression log-odds, agreement with shap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError
from whylens.shap import ExactExplainer, LinearExplainer, summarize_background


@pytest.fixture(scope="module")
def binary():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :8]
    return X, LogisticRegression(max_iter=1000).fit(X, y)


def test_interventional_closed_form_and_log_odds(binary):
    X, clf = binary
    bg = X[:50]
    exp = LinearExplainer(clf, bg)(X[100:110])
    expected = clf.coef_[0] * (X[100:110] - bg.mean(0))
    np.testing.assert_allclose(exp.values[:, 0], expected, atol=1e-12)
    np.testing.assert_allclose(exp.output[:, 0], clf.decision_function(X[100:110]), atol=1e-12)
    np.testing.assert_allclose(exp.values.sum(-1) + exp.base_values, exp.output, atol=1e-10)
    assert exp.output_names == ["1"]


def test_correlation_dependent_two_features_by_hand():
    """cov [[1, r], [r, 1]], f = x0: phi = (a - r b / 2, r b / 2) for x - mean = (a, b)."""
    r = 0.6
    # A background with mean 0 and covariance exactly [[1, r], [r, 1]] (population form).
    L = np.linalg.cholesky(np.array([[1.0, r], [r, 1.0]]))
    Z = np.array(list(itertools.product([-1.0, 1.0], repeat=2)))  # mean 0, cov I
    bg = Z @ L.T
    a, b = 1.5, -2.0
    exp = LinearExplainer((np.array([1.0, 0.0]), 0.0), bg, "correlation_dependent")(
        np.array([[a, b]]))
    np.testing.assert_allclose(exp.values[0, 0], [a - r * b / 2, r * b / 2], atol=1e-12)


def test_correlation_dependent_exact_equals_sampled_and_game():
    """The exact transform agrees with its Monte Carlo estimate and with the
    Gaussian conditional-expectation game solved by ExactExplainer."""
    rng = np.random.default_rng(0)
    d = 5
    A = rng.normal(size=(d, d))
    bg = rng.normal(size=(400, d)) @ A
    coef = rng.normal(size=d)
    X = rng.normal(size=(3, d)) @ A
    exact = LinearExplainer((coef, 0.3), bg, "correlation_dependent")
    mu, cov = exact.mean, exact.cov

    class Conditional:
        """Row x seen through E[x | x_S] under the Gaussian: a Representation."""

        n_features = d

        def __init__(self, x):
            self.instance = x
            self.names = [f"x{i}" for i in range(d)]

        def apply(self, Z):
            out = np.empty((Z.shape[0], d))
            for i, z in enumerate(Z):
                s = np.flatnonzero(z)
                out[i] = mu
                if s.size:
                    out[i] = mu + cov[:, s] @ np.linalg.solve(cov[np.ix_(s, s)],
                                                             self.instance[s] - mu[s])
            return out

    class GaussianMasker:
        kind = "gaussian"

        def split(self, X):
            return list(X), False

        def representation(self, x):
            return Conditional(x)

        def features(self, reps, width):
            from whylens.explanation import Features

            return Features(kind="tabular", names=reps[0].names,
                            data=np.array([r.instance for r in reps]))

    by_game = ExactExplainer(lambda M: M @ coef + 0.3, GaussianMasker())(X)
    np.testing.assert_allclose(exact(X).values, by_game.values, atol=1e-10)
    import whylens.shap._linear as lin

    err = [np.abs(lin.correlation_transform(coef[None], cov, n, np.random.default_rng(1))
                  - exact.transform).max() for n in (50, 4000)]
    assert err[1] < err[0] / 3 and err[1] < 0.08


def test_agreement_with_shap_logistic_both_modes(binary):
    shap = pytest.importorskip("shap")
    X, clf = binary
    bg = X[:60]
    ours = LinearExplainer(clf, bg).shap_values(X[200:210])
    theirs = shap.LinearExplainer(clf, bg).shap_values(X[200:210])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)
    # correlation_dependent on a logistic regression: shap estimates its transform
    # by sampling feature orderings, so it is exact (and both must agree to 1e-8)
    # only where the background's covariance is diagonal, as for a 2^3 factorial
    # design. On correlated backgrounds whylens' closed form is checked against
    # the Gaussian conditional game instead (test above) and shap to its sampling
    # error (test below).
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    _, y = load_breast_cancer(return_X_y=True)
    clf3 = LogisticRegression(max_iter=1000).fit(X[:, :3], y)
    design = np.array(list(itertools.product([-1.0, 1.0], repeat=3))) * [1.0, 2.0, 0.5] + 0.3
    ours_c = LinearExplainer(clf3, design, "correlation_dependent").shap_values(X[:5, :3])
    theirs_c = shap.LinearExplainer(clf3, design, feature_perturbation="correlation_dependent"
                                    ).shap_values(X[:5, :3])
    np.testing.assert_allclose(ours_c, theirs_c, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours_c.sum(-1), clf3.decision_function(X[:5, :3])
                               - clf3.decision_function(design).mean(), atol=1e-10)


def test_agreement_with_shap_correlated_within_sampling_error(binary):
    shap = pytest.importorskip("shap")
    X, clf = binary
    bg = X[:80, :4]
    coef = (clf.coef_[0, :4], clf.intercept_[0])
    ours = LinearExplainer(coef, bg, "correlation_dependent").shap_values(X[300:305, :4])
    np.random.seed(0)  # noqa: NPY002 - shap samples with the global RNG
    theirs = shap.LinearExplainer(coef, bg, feature_perturbation="correlation_dependent",
                                  nsamples=2000).shap_values(X[300:305, :4])
    scale = np.abs(ours).max()
    assert np.abs(ours - theirs).max() < 0.05 * scale


def test_multiclass_and_weighted_background():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    masker = summarize_background(X, 5)
    exp = LinearExplainer(clf, masker)(X[:3])
    assert exp.values.shape == (3, 3, 4)
    np.testing.assert_allclose(masker.weights @ masker.data, X.mean(0), atol=1e-12)
    np.testing.assert_allclose(exp.values, clf.coef_[None] * (X[:3] - X.mean(0))[:, None],
                               atol=1e-10)
    assert LinearExplainer(clf, X[:20]).shap_values(X[:2]).shape == (2, 4, 3)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: LinearExplainer(object(), np.zeros((2, 2))), InputTypeError,
     r"model: expected a fitted linear"),
    (lambda: LinearExplainer((np.ones(3), 0.0), np.zeros((2, 2))), InputError,
     r"masker: expected a background with 3 columns"),
    (lambda: LinearExplainer((np.ones(2), 0.0), np.zeros((2, 2)), "tree"), InputError,
     r"feature_perturbation: expected one of"),
    (lambda: LinearExplainer((np.ones(2), 0.0), np.zeros((2, 2)))(np.zeros((1, 3))), InputError,
     r"X: expected rows of 2 features"),
])
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("n_rows,weighted", [(200, False), (6, False), (6, True), (13, False)])
def test_sampled_transform_equals_prefix_by_prefix(n_rows, weighted):
    """All orderings advanced together (one sweep of C[S, S]^-1 per step when the
    covariance is full rank; batched truncated pseudo-inverses, of the p x p Gram
    matrix past the background's rank, when singular) give the per-prefix
    solution of the Gaussian game, ordering by ordering."""
    import whylens.shap._linear as lin

    rng = np.random.default_rng(n_rows)
    d, k = 14, 2
    bg = rng.normal(size=(n_rows, d)) @ rng.normal(size=(d, d))
    w = rng.uniform(0.5, 2.0, n_rows) if weighted else np.ones(n_rows)
    w /= w.sum()
    mu = w @ bg
    factor = np.sqrt(w)[:, None] * (bg - mu)
    cov = factor.T @ factor
    coef = rng.normal(size=(k, d))
    singular = lin.is_singular(cov)
    assert singular == (n_rows <= d)
    orders = np.array([rng.permutation(d) for _ in range(7)])
    expected = np.zeros((k, d, d))
    for order in orders:
        prev = np.zeros((k, d))
        for i in range(d):
            cur = lin._row_maps(coef, cov, order[: i + 1], singular)
            expected[:, order[i]] += cur - prev
            prev = cur
    expected /= len(orders)
    got = lin.sampled_transform(coef, cov, orders, singular, lin._RCOND, factor)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * np.abs(expected).max())
    # Efficiency per ordering: each output's transform rows add up to its coefficients.
    np.testing.assert_allclose(got.sum(1), coef, atol=1e-9 * np.abs(coef).max())


def test_sampled_same_seed_same_numbers():
    rng = np.random.default_rng(5)
    bg = rng.normal(size=(8, 16))
    coef = (rng.normal(size=16), 0.1)
    X = rng.normal(size=(4, 16))
    a = LinearExplainer(coef, bg, "correlation_dependent", nsamples=40, random_state=3)(X)
    b = LinearExplainer(coef, bg, "correlation_dependent", nsamples=40, random_state=3)(X)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_allclose(a.values.sum(-1) + a.base_values, a.output, atol=1e-10)


def test_sampled_one_row_background_is_interventional_and_blocks_agree(monkeypatch):
    import whylens.shap._linear_orderings as orderings

    rng = np.random.default_rng(2)
    d = 15
    coef = rng.normal(size=(3, d))
    X = rng.normal(size=(4, d))
    one = LinearExplainer((coef, np.zeros(3)), rng.normal(size=(1, d)), "correlation_dependent",
                          nsamples=10)
    np.testing.assert_allclose(one.shap_values(X), np.moveaxis(
        coef[None] * (X - one.mean)[:, None], 1, -1), atol=1e-12)
    for bg in (rng.normal(size=(5, d)), rng.normal(size=(60, d))):
        whole = LinearExplainer((coef, np.zeros(3)), bg, "correlation_dependent", nsamples=30,
                                random_state=0).transform
        monkeypatch.setattr(orderings, "_BLOCK_BYTES", 1)  # one ordering per block
        blocks = LinearExplainer((coef, np.zeros(3)), bg, "correlation_dependent", nsamples=30,
                                 random_state=0).transform
        monkeypatch.undo()
        np.testing.assert_allclose(blocks, whole, rtol=0, atol=1e-11 * np.abs(whole).max())
