"""The LIME solver against closed forms and against lime.lime_base.LimeBase."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError
from whylens.lime import FEATURE_SELECTION, LimeSolver, exponential_kernel


def _problem(seed: int, n: int = 2000, d: int = 12, binary: bool = True):
    rng = np.random.default_rng(seed)
    Z = (rng.random((n, d)) > 0.4).astype(float) if binary else rng.normal(size=(n, d))
    Z[0] = 1.0
    true = rng.normal(size=d) * (rng.random(d) > 0.3)
    y = Z @ true + 0.3 + 0.05 * rng.normal(size=n)
    y2 = np.tanh(Z @ rng.normal(size=d))
    distances = np.sqrt(((Z - Z[0]) ** 2).sum(axis=1))
    return Z, np.column_stack([y, y2]), distances


@pytest.mark.parametrize("method", FEATURE_SELECTION)
@pytest.mark.parametrize("num_features", [3, 10])
@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("layout", ["C", "F", "overwrite"])
def test_solver_matches_lime_base(method, num_features, binary, layout):
    """Every mode equals lime's LimeBase, for row- and column-major samples and
    for a solver that centres and weights the samples in place."""
    lime_base = pytest.importorskip("lime.lime_base")
    Z, Y, distances = _problem(7 + num_features, binary=binary)
    width = 3.0

    def kernel(d):
        return exponential_kernel(d, width)

    base = lime_base.LimeBase(kernel, random_state=0)
    own = np.asfortranarray(Z) if layout != "C" else Z.copy()
    solver = LimeSolver(own, kernel(distances), overwrite_samples=layout == "overwrite")
    assert (solver.Z is None) == (layout == "overwrite")
    for label in range(Y.shape[1]):
        intercept, exp, score, local = base.explain_instance_with_data(
            Z, Y, distances, label, num_features, feature_selection=method
        )
        fit = solver.fit(Y[:, label], num_features, method)
        ours = dict(zip(fit.used.tolist(), fit.coef.tolist(), strict=True))
        theirs = dict(exp)
        assert set(ours) == set(theirs)
        for feature, weight in theirs.items():
            assert ours[feature] == pytest.approx(weight, abs=1e-10)
        assert fit.intercept == pytest.approx(intercept, abs=1e-10)
        assert fit.score == pytest.approx(score, abs=1e-10)
        assert fit.local_prediction == pytest.approx(local[0], abs=1e-10)


def test_linear_output_recovered_exactly_without_regularisation():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(500, 6))
    true = np.array([1.5, -2.0, 0.0, 0.25, 3.0, -0.5])
    y = Z @ true + 4.0
    fit = LimeSolver(Z, rng.random(500)).fit(y, 6, "none", LinearRegression())
    np.testing.assert_allclose(fit.coef, true, atol=1e-10)
    assert fit.intercept == pytest.approx(4.0, abs=1e-10)
    assert fit.score == pytest.approx(1.0, abs=1e-12)


def test_forward_selection_finds_the_informative_features():
    rng = np.random.default_rng(1)
    Z = (rng.random((3000, 15)) > 0.5).astype(float)
    y = 2.0 * Z[:, 3] - 1.5 * Z[:, 11] + 0.8 * Z[:, 7]
    fit = LimeSolver(Z, np.ones(3000)).fit(y, 3, "forward_selection")
    assert fit.used.tolist() == [3, 11, 7]  # in order of explained variance


def test_kernel_is_limes():
    """exp(-d²/2w²) equals lime's sqrt(exp(-d²/w²)) to a rounding (relative |d²/w²| ulps)."""
    d = np.concatenate([[0.0, 1.0, 2.5], np.linspace(0.0, 12.0, 1001)])
    for width in (0.75, 2.0, 25.0):
        np.testing.assert_allclose(exponential_kernel(d, width),
                                   np.sqrt(np.exp(-(d**2) / width**2)), rtol=5e-14, atol=0)
    np.testing.assert_allclose(exponential_kernel(np.arange(31), 4.0),
                               np.sqrt(np.exp(-(np.arange(31.0) ** 2) / 16.0)), rtol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"feature_selection": "lars"}, "feature_selection"),
        ({"feature_selection": None}, "feature_selection"),
    ],
)
def test_unknown_feature_selection_raises(kwargs, match):
    Z, Y, _ = _problem(0, n=50, d=4)
    with pytest.raises(InputError, match=match):
        LimeSolver(Z, np.ones(50)).fit(Y[:, 0], 2, **kwargs)


@pytest.mark.parametrize(
    ("Z", "weights", "match"),
    [
        (np.ones(5), np.ones(5), "2-D"),
        (np.ones((5, 2)), np.ones(4), "weights"),
        (np.ones((5, 2)), np.zeros(5), "positive sum"),
        (np.ones((5, 2)), -np.ones(5), "non-negative"),
        (np.full((5, 2), np.nan), np.ones(5), "finite"),
    ],
)
def test_solver_bad_input(Z, weights, match):
    with pytest.raises(InputError, match=match):
        LimeSolver(Z, weights)


def test_overwrite_samples_centres_in_place_and_refuses_a_model_regressor():
    """overwrite_samples=True turns Z into (Z - weighted mean) * sqrt(w) in its own
    memory and gives the fits of a solver that keeps Z; a model_regressor, which
    needs the raw samples, is refused with a message naming the fix."""
    from sklearn.linear_model import Ridge

    Z, Y, distances = _problem(3)
    weights = exponential_kernel(distances, 3.0)
    kept = LimeSolver(Z, weights)
    own = Z.copy()
    solver = LimeSolver(own, weights, overwrite_samples=True)
    mean = weights @ Z / weights.sum()
    np.testing.assert_allclose(own, (Z - mean) * np.sqrt(weights)[:, None], atol=1e-15)
    for method in FEATURE_SELECTION:
        a, b = kept.fit(Y[:, 1], 4, method), solver.fit(Y[:, 1], 4, method)
        assert a.used.tolist() == b.used.tolist()
        np.testing.assert_allclose(b.coef, a.coef, atol=1e-12)
        assert b.score == pytest.approx(a.score, abs=1e-12)
        assert b.local_prediction == pytest.approx(a.local_prediction, abs=1e-12)
    with pytest.raises(InputError, match="overwrite_samples"):
        solver.fit(Y[:, 0], 4, "auto", Ridge())
    read_only = Z.copy()
    read_only.flags.writeable = False  # left alone: the solver keeps it
    assert LimeSolver(read_only, weights, overwrite_samples=True).Z is read_only


def test_kernel_takes_a_scalar_and_a_list():
    assert exponential_kernel(0.5, 1.0) == pytest.approx(np.sqrt(np.exp(-0.25)), rel=1e-15)
    assert isinstance(exponential_kernel(0.5, 1.0), float)
    np.testing.assert_allclose(exponential_kernel([0.0, 1.0], 1.0), [1.0, np.exp(-0.5)])


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("value", [0.0, 1.0, 0.3, 123.456])
def test_constant_output_scores_one_as_lime(overwrite, value):
    """A constant output has nothing to explain: zero coefficients, the constant as
    intercept and local prediction (as lime), and a score of 1, scikit-learn's
    r2_score for a perfect fit of a constant. lime's own score depends on rounding:
    1 when the weighted mean of the constant comes out exact, 0 otherwise (0.3 here),
    the ~1e-30 residue being taken for variance."""
    lime_base = pytest.importorskip("lime.lime_base")
    Z, _, distances = _problem(5)
    y = np.full(Z.shape[0], value)
    weights = exponential_kernel(distances, 3.0)
    fit = LimeSolver(Z.copy(), weights, overwrite_samples=overwrite).fit(y, 4, "auto")
    base = lime_base.LimeBase(lambda d: exponential_kernel(d, 3.0), random_state=0)
    intercept, _, score, local = base.explain_instance_with_data(
        Z, y[:, None], distances, 0, 4, feature_selection="auto")
    assert fit.score == 1.0
    assert score in (0.0, 1.0)
    np.testing.assert_array_equal(fit.coef, 0.0)
    assert fit.intercept == pytest.approx(intercept, abs=1e-10) == value
    assert fit.local_prediction == pytest.approx(local[0], abs=1e-10)


def test_instance_given_as_a_view_of_overwritten_samples_is_kept():
    """instance=Z[0] is copied before the samples are centred in place."""
    Z, Y, distances = _problem(6)
    weights = exponential_kernel(distances, 3.0)
    expected = LimeSolver(Z, weights).fit(Y[:, 0], 4, "auto")
    own = Z.copy()
    fit = LimeSolver(own, weights, instance=own[0], overwrite_samples=True).fit(
        Y[:, 0], 4, "auto")
    assert fit.local_prediction == pytest.approx(expected.local_prediction, abs=1e-12)


@pytest.mark.parametrize("method", ["forward_selection", "highest_weights"])
def test_an_output_changed_in_place_is_selected_afresh(method):
    """Nothing is remembered by the identity of y: the same array, overwritten with
    another output, gets that output's selection and fit (a memo keyed on the array
    object once returned the first output's moments)."""
    Z, Y, distances = _problem(8)
    weights = exponential_kernel(distances, 3.0)
    solver = LimeSolver(Z, weights)
    y = Y[:, 0].copy()
    first = solver.select(y, 3, method)
    y[:] = Y[:, 1]
    fresh = LimeSolver(Z, weights)
    expected = fresh.select(Y[:, 1].copy(), 3, method)
    assert first.tolist() != expected.tolist()
    assert solver.select(y, 3, method).tolist() == expected.tolist()
    a, b = solver.fit(y, 3, method), fresh.fit(Y[:, 1].copy(), 3, method)
    assert a.used.tolist() == b.used.tolist()
    assert a.coef.tobytes() == b.coef.tobytes() and a.score == b.score
