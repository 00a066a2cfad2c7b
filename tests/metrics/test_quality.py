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


def _explanation():
    from whylens import Explanation, Features

    X = np.array([[1.0, 2.0, 3.0]])
    return Explanation(values=(W * X)[:, None], labels=[0], method="test.exact",
                       mode="regression", output=linear(X),
                       features=Features(kind="tabular", names=["a", "b", "c"], data=X))


def test_explanation_carries_quality_through_json():
    from whylens import Explanation

    exp = _explanation()
    plain_doc = exp.to_dict()
    assert "quality" not in plain_doc  # documents without figures are unchanged
    assert Explanation.from_json(exp.to_json()).quality is None
    background = np.random.default_rng(0).normal(size=(20, 3))
    exp.quality = quality(linear, exp, background=background, n_random=2,
                          extra=[stability(lambda x, random_state: exp, None, seeds=[0, 1],
                                           k=2)])
    back = Explanation.from_json(exp.to_json())
    assert back.quality == exp.quality and back == exp
    assert json.loads(exp.to_json())["quality"]["deletion"]["random"]["n_draws"] == 2
    assert exp[0].quality == exp.quality


@pytest.mark.parametrize("bad", [
    [1, 2],
    {"deletion": 0.5},
    {"deletion": {"score": {"__float__": "nan"}}},
    {"deletion": {"score": {"__ndarray__": "AAAAAAAA8D8=", "dtype": "<f8", "shape": [1]}}},
])
def test_a_corrupted_quality_is_a_serialization_error(bad):
    from whylens import Explanation
    from whylens.errors import SerializationError

    doc = _explanation().to_dict()
    doc["quality"] = bad
    with pytest.raises(SerializationError, match="quality"):
        Explanation.from_dict(doc)


def test_html_view_shows_the_quality_table():
    exp = _explanation()
    assert "wl-quality" not in exp.as_html()
    exp.quality = quality(linear, exp, background=np.eye(3), n_random=2,
                          extra=[stability(lambda x, random_state: exp, None, seeds=[0, 1],
                                           k=2)])
    page = exp.as_html()
    assert 'class="wl-table wl-quality"' in page
    for name in ("deletion", "insertion", "stability (top-k Jaccard)"):
        assert f"<td>{name}</td>" in page
    d = exp.quality["deletion"]
    assert f"<td>{d['score']:.4g}</td>" in page
    assert f"{d['random']['mean']:.4g} ± {d['random']['std']:.4g}" in page
    assert "lower is better" in page and "higher is better" in page
