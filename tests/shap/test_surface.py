"""shap-style selection on Explanation: exp[rows, features, labels], shap_values layout."""

from __future__ import annotations

import numpy as np
import pytest

from whylens import Explanation
from whylens.errors import InputError, InputTypeError
from whylens.shap import ExactExplainer, TextMasker


@pytest.fixture(scope="module")
def exp():
    rng = np.random.default_rng(0)
    bg, X = rng.normal(size=(5, 4)), rng.normal(size=(6, 4))

    def f(A):
        return np.column_stack([A[:, 0] * A[:, 1] + A[:, 2], A[:, 3] - A[:, 0]])

    return ExactExplainer(f, bg, feature_names=["age", "bmi", "bp", "s1"])(X)


def test_feature_by_name_keeps_layout(exp):
    col = exp[:, "bmi"]
    assert col.values.shape == (6, 2, 1)
    np.testing.assert_array_equal(col.values[:, :, 0], exp.values[:, :, 1])
    np.testing.assert_array_equal(col.data[:, 0], exp.data[:, 1])
    assert col.feature_names == ["bmi"]
    np.testing.assert_array_equal(col.base_values, exp.base_values)


def test_rows_features_labels(exp):
    sub = exp[1:4, ["s1", 0], 1]
    assert sub.values.shape == (3, 1, 2)
    np.testing.assert_array_equal(sub.values[:, 0], exp.values[1:4, 1][:, [3, 0]])
    assert sub.labels.tolist() == [1]
    np.testing.assert_array_equal(sub.base_values[:, 0], exp.base_values[1:4, 1])
    np.testing.assert_array_equal(sub.output, exp.output[1:4])  # all outputs kept
    mask = exp.output[:, 0] > np.median(exp.output[:, 0])
    assert exp[mask].n_instances == int(mask.sum())
    assert exp[[0, 2]].values.shape == (2, 2, 4)
    assert exp[3] == exp[3:4]


def test_selection_round_trips_json(exp):
    sub = exp[::2, 0:2]
    assert Explanation.from_json(sub.to_json()) == sub


def test_shap_values_layout(exp):
    assert exp.shap_values.shape == (6, 4, 2)
    np.testing.assert_array_equal(exp.shap_values[..., 1], exp.values[:, 1])
    assert exp[:, :, 0].shap_values.shape == (6, 4)


def test_text_selection_keeps_spans():
    e = ExactExplainer(lambda t: np.array([[s.count("a") * 1.0] for s in t]), TextMasker())(
        "a b a")
    sub = e[:, [2]]
    assert sub.features.spans[0] == [[[4, 5]]]
    assert sub.features.descriptions is None or sub.features.descriptions[0] == ["a"]


@pytest.mark.parametrize("index,exc,match", [
    ((slice(None), "height"), InputError, r"index \(features\): expected one of"),
    ((slice(None), 9), InputError, r"index \(features\): expected an index in \[-4, 4\)"),
    ((slice(None), slice(None), 5), InputError, r"index \(labels\)"),
    ((slice(None), 1.5), InputTypeError, r"index \(features\)"),
    ((slice(None), slice("age", "bp")), InputTypeError, r"a slice of ints"),
    ((0, 0, 0, 0), InputError, r"at most \(rows, features, labels\)"),
    (np.array([True, False]), InputError, r"boolean mask of length 6"),
])
def test_bad_selection(exp, index, exc, match):
    with pytest.raises(exc, match=match):
        exp[index]


def test_batch_shows_as_text_in_a_notebook(exp):
    assert exp._repr_html_() is None  # IPython falls back to repr()
    assert "n_instances=6" in repr(exp)
    assert "<div" in exp[0]._repr_html_()
