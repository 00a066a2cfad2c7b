"""stability: deterministic methods, LIME's budget, the budget search, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError, ModelOutputError
from whylens.metrics import StabilityWarning, stability


def deterministic(x, random_state):
    """Exact linear attributions: no randomness at all."""
    return (np.asarray(x) * np.arange(1.0, 9.0))


def noisy(x, random_state, num_samples):
    """A known ranking (8, 7, ..., 1) plus noise of sd 10 / sqrt(num_samples)."""
    rng = np.random.default_rng(random_state)
    true = np.arange(8.0, 0.0, -1.0)
    return (true + rng.normal(scale=10 / np.sqrt(num_samples), size=(3, 8)))


def test_deterministic_method_is_exactly_one():
    res = stability(deterministic, np.ones((3, 8)), seeds=range(4), k=3)
    assert (res.jaccard, res.spearman, res.kendall) == (1.0, 1.0, 1.0)
    for m in ("jaccard", "spearman", "kendall"):
        np.testing.assert_array_equal(res.scores[m], np.ones((3, 1)))
        assert res.random[m].mean < 1.0
    # chance: the top-3 of 8 random features overlap little
    assert res.random["jaccard"].mean < 0.5
    assert res.values.shape == (4, 3, 1, 8)
    d = res.to_dict()
    assert d["jaccard"] == 1.0 and d["random"]["spearman"]["n_draws"] == 5


def test_jaccard_of_a_hand_made_pair():
    runs = {0: np.array([[5.0, 4, 3, 0, 0, 0]]), 1: np.array([[5.0, 0, 3, 4, 0, 0]])}
    res = stability(lambda x, random_state: runs[random_state], None, seeds=[0, 1], k=3,
                    n_random=0)
    assert res.jaccard == pytest.approx(2 / 4)  # {0,1,2} vs {0,2,3}
    assert res.random == {}


def test_budget_search_stops_at_the_first_budget_that_reaches_the_threshold():
    res = stability(noisy, None, k=3, budget=10, threshold=0.95, max_budget=100_000)
    assert res.reached and res.jaccard >= 0.95
    assert res.budget == res.history[-1][0] and res.budget > 10
    assert [b for b, _ in res.history] == [10 * 2**i for i in range(len(res.history))]
    assert all(j < 0.95 for _, j in res.history[:-1])
    # the figures are those of a plain run at the chosen budget
    again = stability(noisy, None, k=3, budget=res.budget)
    assert again.jaccard == res.jaccard and again.budget_argument == "num_samples"


def test_budget_search_warns_when_the_cap_is_too_low():
    with pytest.warns(StabilityWarning, match="max_budget"):
        res = stability(noisy, None, k=3, budget=2, threshold=0.99, max_budget=8)
    assert res.reached is False and res.budget == 8


@pytest.fixture(scope="module")
def lime_case():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :8]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    return X, model


def lime_explain(X, model):
    from whylens.lime import LimeTabularExplainer

    def explain(x, random_state, num_samples):
        explainer = LimeTabularExplainer(X, random_state=random_state)
        return explainer.explain_instance(x, model.predict_proba, num_samples=num_samples,
                                          num_features=8)
    return explain


def test_lime_is_less_stable_with_few_samples(lime_case):
    X, model = lime_case
    explain = lime_explain(X, model)
    few = stability(explain, X[0], k=3, budget=30)
    many = stability(explain, X[0], k=3, budget=3000)
    assert few.jaccard < many.jaccard and few.spearman < many.spearman
    assert many.jaccard > many.random["jaccard"].mean


def test_lime_budget_search(lime_case):
    X, model = lime_case
    res = stability(lime_explain(X, model), X[0], k=2, seeds=range(3), budget=20,
                    threshold=0.9, max_budget=20_000)
    assert res.reached and res.jaccard >= 0.9 and res.budget > 20


def test_kernel_shap_nsamples():
    from whylens.shap import KernelExplainer

    rng = np.random.default_rng(0)
    background = rng.normal(size=(10, 6))
    x = rng.normal(size=(1, 6))
    w = np.array([5.0, -4, 3, 0.1, 0.2, 0.05])

    def f(Z):
        return np.tanh(np.asarray(Z) @ w)[:, None]

    def explain(x, random_state, nsamples):
        return KernelExplainer(f, background, nsamples=nsamples, random_state=random_state)(x)

    res = stability(explain, x, k=3, budget=14, budget_argument="nsamples", threshold=1.0,
                    max_budget=64)
    assert res.reached and res.budget_argument == "nsamples"


def test_callback_counts_the_runs():
    calls = []
    stability(deterministic, np.ones((1, 8)), seeds=range(3), k=2,
              callback=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"k": 9}, InputError, "k"),
    ({"k": 0}, InputError, "k"),
    ({"seeds": [3]}, InputError, "seeds"),
    ({"seeds": [1, 1]}, InputError, "seeds"),
    ({"seeds": 5}, InputTypeError, "seeds"),
    ({"seeds": [0, 1.5]}, InputTypeError, "seeds"),
    ({"threshold": 0.9}, InputError, "budget"),
    ({"threshold": 1.5, "budget": 5}, InputError, "threshold"),
    ({"threshold": 0.5, "budget": 5, "max_budget": 2}, InputError, "max_budget"),
    ({"threshold": 0.5, "budget": 5, "growth": 1.0}, InputError, "growth"),
    ({"budget_argument": "num samples"}, InputTypeError, "budget_argument"),
])
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        stability(deterministic, np.ones((1, 8)), **kwargs)


def test_bad_explain():
    with pytest.raises(InputTypeError, match="explain"):
        stability("lime", np.ones(3))
    with pytest.raises(ModelOutputError, match="explain"):
        stability(lambda x, random_state: "no", np.ones(3))
    shapes = {0: np.ones((1, 4)), 1: np.ones((1, 5))}
    with pytest.raises(InputError, match="one shape"):
        stability(lambda x, random_state: shapes[random_state], None, seeds=[0, 1], k=2)
