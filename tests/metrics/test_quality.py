"""quality: the figures of an explanation as plain JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from whylens.errors import InputError
from whylens.metrics import deletion, quality, stability

W = np.array([2.0, -1.0, 0.5])


def linear(X):
    return (np.asarray(X) @ W)[:, None]


def test_quality_is_plain_json_and_matches_the_metrics():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 3))
    exact = W * (X - X.mean(axis=0))
    stab = stability(lambda x, random_state: exact, None, seeds=[0, 1], k=2)
    q = quality(linear, exact, X, target=0, metrics=("deletion", "infidelity"),
                extra=[stab], n_random=3)
    assert set(q) == {"deletion", "infidelity", "stability"}
    assert json.loads(json.dumps(q, allow_nan=False)) == q
    d = deletion(linear, exact, X, target=0, n_random=3)
    assert q["deletion"]["score"] == d.score
    assert q["deletion"]["random"] == {"mean": d.random.mean, "std": d.random.std,
                                       "n_draws": 3}
    assert q["deletion"]["vs_random"] == pytest.approx(d.random.mean - d.score)
    assert q["deletion"]["higher_is_better"] is False
    assert q["stability"]["jaccard"] == 1.0


def test_quality_bad_names():
    with pytest.raises(InputError, match="metrics"):
        quality(linear, np.ones((1, 3)), np.ones((1, 3)), target=0, metrics=["auc"])
    with pytest.raises(InputError, match="extra"):
        quality(linear, np.ones((2, 3)), np.ones((2, 3)), target=0, extra=[1.0])
