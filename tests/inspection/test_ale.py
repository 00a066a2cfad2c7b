"""Accumulated local effects: known answers (additive models, x1*x2, categories),
bootstrap coverage, serialisation, the calling convention and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import (
    Cancelled,
    InputError,
    InputTypeError,
    NotSupportedError,
    SerializationError,
)
from whylens.inspection import ALEResult, accumulated_local_effects
from whylens.inspection._ale import order_categories


def additive(A):
    """f(x) = sin(3 x0) + x1^2 - 2 x2: every ALE is its own component, up to a constant."""
    A = np.asarray(A, dtype=float)
    return np.sin(3 * A[:, 0]) + A[:, 1] ** 2 - 2 * A[:, 2]


def product(A):
    """f(x) = x0 * x1."""
    A = np.asarray(A, dtype=float)
    return A[:, 0] * A[:, 1]


@pytest.fixture(scope="module")
def uniform():
    return np.random.default_rng(0).uniform(size=(3000, 3))


@pytest.mark.parametrize("correlated", [False, True])
def test_additive_model_recovers_each_component_up_to_a_constant(correlated):
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(2000, 3))
    if correlated:  # ALE's case: x1 follows x0, partial dependence would mix them
        X[:, 1] = X[:, 0] + 0.05 * rng.normal(size=2000)
    res = accumulated_local_effects(additive, X, [0, 1, 2], bins=15)
    components = [lambda z: np.sin(3 * z), lambda z: z**2, lambda z: -2 * z]
    for effect, g in zip(res, components, strict=True):
        gap = effect.values[0] - g(effect.grid[0])
        assert np.ptp(gap) < 1e-12
        # Centred: the count-weighted mean of each bin's two edge values is 0.
        v = effect.values[0]
        assert abs(((v[:-1] + v[1:]) / 2 * effect.counts).sum()) < 1e-10


def test_product_of_independent_uniforms_is_linear(uniform):
    effect = accumulated_local_effects(product, uniform, 0, bins=20)[0]
    z, v = effect.grid[0], effect.values[0]
    slope, intercept = np.polyfit(z, v, 1)
    resid = v - (slope * z + intercept)
    assert 1 - resid.var() / v.var() > 0.999
    assert slope == pytest.approx(0.5, abs=0.03)  # E[x1]
    # Each bin's local effect is exactly the bin width times the mean of x1 in the bin.
    b = np.clip(np.searchsorted(z, uniform[:, 0], side="left") - 1, 0, z.size - 2)
    means = np.bincount(b, weights=uniform[:, 1]) / np.bincount(b)
    np.testing.assert_allclose(np.diff(v), np.diff(z) * means, rtol=1e-10, atol=1e-14)


def test_second_order_effect_of_a_product_and_of_an_additive_model(uniform):
    res = accumulated_local_effects(product, uniform, (0, 1), bins=8)
    effect = res[0]
    assert effect.kind == "interaction" and effect.values.shape == (1, 9, 9)
    v = effect.values[0]
    mixed = v[1:, 1:] - v[1:, :-1] - v[:-1, 1:] + v[:-1, :-1]
    e1, e2 = effect.grid
    np.testing.assert_allclose(mixed, np.outer(np.diff(e1), np.diff(e2)), atol=1e-12)
    # No main effect left: the count-weighted mean over the other axis of each step is 0.
    c = effect.counts
    step1 = v[1:] - v[:-1]
    assert np.abs((c * (step1[:, :-1] + step1[:, 1:]) / 2).sum(axis=1)).max() < 1e-12
    flat = accumulated_local_effects(additive, uniform, (0, 2), bins=8)[0]
    assert np.abs(flat.values).max() < 1e-12


def test_empty_cells_take_the_nearest_cell():
    rng = np.random.default_rng(2)
    x = rng.uniform(size=800)
    X = np.column_stack([x, x + 0.01 * rng.normal(size=800)])  # the off-diagonal cells are empty
    effect = accumulated_local_effects(product, X, (0, 1), bins=6)[0]
    assert (effect.counts == 0).any()
    assert np.isfinite(effect.values).all()


def test_categorical_effects_and_similarity_order():
    rng = np.random.default_rng(3)
    n = 4000
    cat = rng.integers(0, 4, size=n).astype(float)
    centre = np.array([0.0, 3.0, 1.0, 2.0])  # x0 is alike in categories 0-2-3-1
    x0 = centre[cat.astype(int)] + 0.3 * rng.normal(size=n)
    X = np.column_stack([x0, cat])
    table = np.array([1.0, -2.0, 0.5, 4.0])

    def f(A):
        return A[:, 0] + table[A[:, 1].astype(int)]

    effect = accumulated_local_effects(f, X, 1, categorical_features=[1])[0]
    assert effect.kind == "categorical"
    np.testing.assert_array_equal(effect.grid[0], [0.0, 2.0, 3.0, 1.0])
    np.testing.assert_array_equal(order_categories(X, 1, np.array([False, True])),
                                  effect.grid[0])
    expected = table[effect.grid[0].astype(int)]
    counts = effect.counts
    expected = expected - (expected * counts).sum() / counts.sum()
    np.testing.assert_allclose(effect.values[0], expected, atol=1e-12)
    # the same column as a lone index counted from the end, or as a boolean mask
    for same in (-1, np.array([False, True])):
        again = accumulated_local_effects(f, X, 1, categorical_features=same)[0]
        np.testing.assert_array_equal(again.values, effect.values)


def test_bootstrap_band_covers_the_truth_at_about_its_nominal_rate():
    """x0 ~ U(0, 1), x1 ~ N(1, 1), f = x0 x1, fixed edges: the ALE of x0 is x0 - 0.5."""
    edges = np.linspace(0.0, 1.0, 11)
    truth = edges - 0.5
    hits = []
    for sim in range(60):
        rng = np.random.default_rng(100 + sim)
        X = np.column_stack([rng.uniform(size=300), rng.normal(1.0, 1.0, size=300)])
        effect = accumulated_local_effects(product, X, 0, bins=edges, n_bootstrap=200,
                                           confidence=0.9, random_state=sim)[0]
        hits.append((effect.lower[0] <= truth) & (truth <= effect.upper[0]))
    coverage = np.mean(hits)
    assert 0.82 <= coverage <= 0.97, coverage


def test_bootstrap_is_seeded_and_free_of_model_calls(uniform):
    calls = []

    def f(A):
        calls.append(len(A))
        return product(A)

    a = accumulated_local_effects(f, uniform, [0, (0, 1)], bins=6, n_bootstrap=30,
                                  random_state=7)
    evals = sum(calls)
    b = accumulated_local_effects(f, uniform, [0, (0, 1)], bins=6, n_bootstrap=30,
                                  random_state=7)
    assert evals == a.n_evals == 2 * 3000 + 4 * 3000
    for ea, eb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ea.lower, eb.lower)
        np.testing.assert_array_equal(ea.std, eb.std)
        assert (ea.lower <= ea.upper).all()


def test_json_round_trip_is_bit_identical(uniform):
    cat = np.column_stack([uniform[:, :2], np.floor(uniform[:, 2] * 3)])
    res = accumulated_local_effects(additive, cat, [0, (0, 1), 2], bins={0: 7, "x1": 5},
                                    categorical_features=["x2"], n_bootstrap=5, random_state=0)
    back = ALEResult.from_json(res.to_json())
    assert back.to_dict() == res.to_dict()
    assert [e.kind for e in back] == ["continuous", "interaction", "categorical"]
    assert back[("x0", "x1")].values.shape == (1, 8, 6)
    with pytest.raises(SerializationError, match="payload"):
        ALEResult.from_json('{"format": "whylens.Explanation/1"}')


def test_dataframes_reach_the_model_as_dataframes(uniform):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(uniform, columns=["a", "b", "c"])
    seen = []

    def f(df):
        seen.append(type(df).__name__)
        return df["a"].to_numpy() * df["b"].to_numpy()

    res = accumulated_local_effects(f, frame, ["a", ("a", "b")], bins=5)
    ref = accumulated_local_effects(product, uniform, [0, (0, 1)], bins=5)
    assert set(seen) == {"DataFrame"} and res.feature_names == ["a", "b", "c"]
    for e, r in zip(res, ref, strict=True):
        np.testing.assert_allclose(e.values, r.values, atol=1e-14)


def test_every_class_of_a_classifier():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    res = accumulated_local_effects(clf, X, [2], bins=8)
    assert res.targets == [0, 1, 2] and res.target_names == ["0", "1", "2"]
    # Probabilities sum to one, so the classes' effects sum to zero.
    np.testing.assert_allclose(res[0].values.sum(axis=0), 0.0, atol=1e-12)
    one = accumulated_local_effects(clf, X, [2], bins=8, target=np.int64(2))
    assert one.params["target"] == 2 and one.targets == [2]
    pair = accumulated_local_effects(clf, X, [2], bins=8, target=["0", 2])
    assert pair.targets == [0, 2] and pair.params["target"] == ["0", 2]
    np.testing.assert_allclose(one[0].values[0], res[0].values[2], atol=1e-14)
    assert one.n_evals == 2 * len(X) + 1
    binary = LogisticRegression(max_iter=500).fit(X, y == 2)
    assert accumulated_local_effects(binary, X, 0, bins=4).targets == [1]
    assert accumulated_local_effects(binary, X, 0, bins=4, target="all").targets == [0, 1]


def test_chunks_progress_and_cancellation(uniform):
    whole = accumulated_local_effects(additive, uniform, [0, (1, 2)], bins=5)
    done = []
    chunked = accumulated_local_effects(additive, uniform, [0, (1, 2)], bins=5, batch_size=997,
                                        callback=lambda a, b: done.append((a, b)))
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a.values, b.values, atol=1e-13)
    assert done[-1] == (6 * 3000, 6 * 3000) and len(done) > 5
    with pytest.raises(Cancelled):
        accumulated_local_effects(additive, uniform, 0, batch_size=500,
                                  callback=lambda a, b: False)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"features": "nope"}, InputError, "features"),
    ({"features": 5}, InputError, "features"),
    ({"features": 1.5}, InputTypeError, "features"),
    ({"features": []}, InputError, "features"),
    ({"features": (0, 0)}, InputError, "features"),
    ({"features": (0, 1, 2)}, InputError, "features"),
    ({"features": 0, "bins": 0}, InputError, "bins"),
    ({"features": 0, "bins": [0.2, 0.5, 1.0]}, InputError, "bins"),
    ({"features": 0, "bins": [0.0, 0.5, 0.5, 1.0]}, InputError, "bins"),
    ({"features": 0, "bins": "ten"}, InputTypeError, "bins"),
    ({"features": 0, "bins": {0: 5, "nope": 3}}, InputError, "bins"),
    ({"features": 0, "n_bootstrap": -1}, InputError, "n_bootstrap"),
    ({"features": 0, "confidence": 1.5}, InputError, "confidence"),
    ({"features": 0, "target": 3}, InputError, "target"),
    ({"features": 0, "target": "yes"}, InputError, "target"),
    ({"features": 0, "random_state": "seed"}, InputTypeError, "random_state"),
    ({"features": 0, "batch_size": 0}, InputError, "batch_size"),
    ({"features": 0, "categorical_features": [7]}, InputError, "categorical_features"),
    ({"features": 0, "categorical_features": []}, InputError, "categorical_features"),
    ({"features": (0, 1), "categorical_features": [1]}, NotSupportedError, "features"),
    ({"features": 0, "callback": "print"}, InputTypeError, "callback"),
])
def test_bad_input(uniform, kwargs, error, match):
    with pytest.raises(error, match=match):
        accumulated_local_effects(additive, uniform[:200], **kwargs)


def test_bad_data():
    with pytest.raises(InputError, match="X"):
        accumulated_local_effects(additive, np.zeros(10), 0)
    with pytest.raises(InputError, match="X"):
        accumulated_local_effects(additive, np.full((10, 3), np.nan), 0)
    X = np.random.default_rng(0).uniform(size=(50, 3))
    X[:, 1] = 2.0
    with pytest.raises(InputError, match="constant"):
        accumulated_local_effects(additive, X, 1)
