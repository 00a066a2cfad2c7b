"""Explanation: exact JSON round trip, lime-style views, batches, errors."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from whylens import Explanation, Features, Surrogate
from whylens.errors import BatchExplanationError, InputError, SerializationError


def _tabular(n: int = 1, labels=(0, 1)) -> Explanation:
    rng = np.random.default_rng(3)
    d = 4
    values = rng.normal(size=(n, len(labels), d))
    values[..., 2] = 0.0
    selected = np.ones((n, len(labels), d), dtype=bool)
    selected[..., 2] = False
    return Explanation(
        values=values,
        labels=np.array(labels),
        method="lime.tabular",
        features=Features(kind="tabular", names=["a", "b", "c", "d"],
                          descriptions=[["a <= 1.00", "b=x", "c", "d > 2.00"]] * n,
                          data=rng.normal(size=(n, d))),
        output=np.tile([[0.25, 0.75]], (n, 1)),
        output_names=["neg", "pos"],
        base_values=rng.normal(size=(n, len(labels))),
        selected=selected,
        surrogate=Surrogate(intercept=np.full((n, len(labels)), 0.5),
                            score=np.full((n, len(labels)), 0.9),
                            local_prediction=np.full((n, len(labels)), 0.7),
                            kernel_width=1.5),
        params={"random_state": 0, "labels": (0, 1), "nested": {"x": [1, 2.5]}, 3: "int key"},
        n_evals=5000,
    )


def test_json_round_trip_is_bit_identical():
    exp = _tabular(n=3)
    # values that a decimal text format would not keep exactly
    exp.values[0, 0, 0] = np.nextafter(0.1, 1.0)
    exp.values[1, 1, 3] = 5e-324
    exp.values[2, 0, 1] = -0.0
    exp.base_values[0, 0] = np.nan
    text = exp.to_json()
    json.loads(text)  # standard JSON, no NaN tokens
    back = Explanation.from_json(text)
    assert back == exp
    for name in ("values", "base_values", "output", "selected"):
        a, b = getattr(exp, name), getattr(back, name)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    assert back.features.data.tobytes() == exp.features.data.tobytes()
    assert back.params == exp.params  # tuples, int keys and nested dicts kept
    assert np.signbit(back.values[2, 0, 1])


def test_round_trip_through_dict_and_empty_shapes():
    exp = Explanation(values=np.zeros((1, 1, 0)), labels=[0], method="m",
                      features=Features(kind="tabular", names=[]))
    back = Explanation.from_dict(json.loads(json.dumps(exp.to_dict())))
    assert back.values.shape == (1, 1, 0)
    assert back == exp


def test_as_list_and_as_map_follow_lime():
    exp = _tabular()
    w = exp.values[0, 1]
    expected = sorted(
        [(name, float(w[i])) for i, name in enumerate(exp.features.descriptions[0]) if i != 2],
        key=lambda t: -abs(t[1]),
    )
    assert exp.as_list(1) == expected
    amap = exp.as_map()
    assert set(amap) == {0, 1}
    assert [i for i, _ in amap[1]] == [exp.features.descriptions[0].index(n) for n, _ in expected]
    assert exp.available_labels() == [0, 1]
    assert exp.intercept == {0: 0.5, 1: 0.5}
    assert exp.score == {0: 0.9, 1: 0.9}
    np.testing.assert_array_equal(exp.local_pred[1], [0.7])
    np.testing.assert_array_equal(exp.predict_proba, [0.25, 0.75])


def test_regression_labels_follow_lime():
    exp = _tabular(labels=(0,))
    exp.mode = "regression"
    pos = exp.as_list(1)
    neg = exp.as_list(0)
    assert [n for n, _ in pos] == [n for n, _ in neg]
    assert [w for _, w in pos] == [-w for _, w in neg]
    with pytest.raises(InputError, match="classification"):
        exp.available_labels()


def test_batch_indexing_and_single_views():
    exp = _tabular(n=3)
    assert len(exp) == 3
    second = exp[1]
    assert second.n_instances == 1
    np.testing.assert_array_equal(second.values[0], exp.values[1])
    np.testing.assert_array_equal(second.features.data[0], exp.features.data[1])
    assert second.surrogate.intercept.shape == (1, 2)
    assert exp[-1] == exp[2]
    with pytest.raises(BatchExplanationError, match=r"exp\[0\]"):
        exp.as_list(1)
    with pytest.raises(InputError, match="index"):
        exp[3]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda e: e.as_list(5), InputError, "label"),
        (lambda e: e["a"], TypeError, "index"),
        (lambda e: Explanation.from_json("{not json"), SerializationError, "JSON"),
        (lambda e: Explanation.from_dict({"format": "other"}), SerializationError, "format"),
        (lambda e: Explanation.from_dict({"format": "whylens.Explanation/1"}),
         SerializationError, "complete"),
        (lambda e: Explanation(values=np.zeros(3), labels=[0], method="m",
                               features=Features(kind="tabular", names=[])), InputError,
         "values"),
        (lambda e: Explanation(values=np.zeros((1, 2, 3)), labels=[0], method="m",
                               features=Features(kind="tabular", names=[])), InputError,
         "labels"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(_tabular())


def test_surrogate_views_need_a_surrogate():
    exp = _tabular()
    exp.surrogate = None
    with pytest.raises(InputError, match="surrogate"):
        _ = exp.intercept


#: The document of :func:`_pinned` written by whylens before the JSON code moved to
#: whylens._serialize (commit 0440c89): the format must not change.
PINNED = (
    '{"format": "whylens.Explanation/1", "values": {"__ndarray__": "AAAAAAAA4D8AAAAAAADQv'
    'w==", "dtype": "<f8", "shape": [1, 1, 2]}, "labels": {"__ndarray__": "AQAAAAAAAAA=",'
    ' "dtype": "<i8", "shape": [1]}, "method": "lime.tabular", "features": {"kind": "tabu'
    'lar", "names": ["a", "b"], "descriptions": null, "data": null, "texts": null, "spans'
    '": null, "segments": null}, "mode": "classification", "output": {"__ndarray__": "AAC'
    'APgAAQD8=", "dtype": "<f4", "shape": [1, 2]}, "output_names": ["neg", "pos"], "base_'
    'values": null, "selected": null, "surrogate": {"intercept": {"__ndarray__": "AAAAAAA'
    'AwD8=", "dtype": "<f8", "shape": [1, 1]}, "score": {"__ndarray__": "AAAAAAAA8D8=", "'
    'dtype": "<f8", "shape": [1, 1]}, "local_prediction": {"__ndarray__": "AAAAAAAA2D8=",'
    ' "dtype": "<f8", "shape": [1, 1]}, "kernel_width": {"__float__": "inf"}}, "top_label'
    's": null, "params": {"__dict__": [["random_state", 0], ["labels", {"__tuple__": [1]}'
    '], [2, null]]}, "n_evals": 10, "layer_values": null, "delta": null}'
)


def _pinned() -> Explanation:
    return Explanation(
        values=np.array([[[0.5, -0.25]]]), labels=[1], method="lime.tabular",
        features=Features(kind="tabular", names=["a", "b"]),
        output=np.array([[0.25, 0.75]], dtype=np.float32), output_names=["neg", "pos"],
        surrogate=Surrogate(intercept=np.array([[0.125]]), score=np.array([[1.0]]),
                            local_prediction=np.array([[0.375]]), kernel_width=float("inf")),
        params={"random_state": 0, "labels": (1,), 2: None}, n_evals=10)


def test_json_document_is_the_pinned_one():
    exp = _pinned()
    assert exp.to_json() == PINNED
    back = Explanation.from_json(PINNED)
    assert back == exp and back.to_json() == PINNED
    assert back.output.dtype == np.float32 and back.surrogate.kernel_width == float("inf")
    assert back.params == {"random_state": 0, "labels": (1,), 2: None}
    assert pickle.loads(pickle.dumps(exp)).to_json() == PINNED  # the views' base class pickles
