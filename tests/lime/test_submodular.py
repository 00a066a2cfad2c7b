"""Submodular pick: the greedy coverage of a constructed case by hand, lime's own pick on
the same explanations, a seeded pick of real LIME explanations, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import Cancelled, InputError, InputTypeError
from whylens.explanation import Explanation, Features
from whylens.lime import LimeTabularExplainer, SubmodularPick, submodular_pick

NAMES = ["a", "b", "c", "d", "e"]
#: Explanation weights by hand. Importance sqrt(sum |w|): a 3, c 2, b = d = sqrt(3), e sqrt(.5).
WEIGHTS = np.array([
    [5.0, 0.0, 0.0, 0.0, 0.0],
    [4.0, 1.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 3.0, 3.0, 0.0],
    [0.0, 2.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0, 0.5],
])


class TableExplainer:
    """Returns the explanation of row i of a weight table (data are the row indices)."""

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=float)
        self.calls = []

    def explain_instance(self, instance, predict_fn, num_features=10, top_labels=None, **kw):
        self.calls.append((int(instance), num_features, top_labels, kw))
        w = self.weights[int(instance)]
        return Explanation(values=w[None, None], labels=[1], method="table",
                           features=Features(kind="tabular", names=list(NAMES)),
                           selected=(w != 0)[None, None], top_labels=[1])


def test_greedy_pick_covers_the_most_important_features_first():
    sp = submodular_pick(TableExplainer(WEIGHTS), np.arange(5), None, method="full",
                         num_exps_desired=3)
    assert sp.feature_names == ["a", "b", "c", "d", "e"]
    np.testing.assert_allclose(sp.importance, np.sqrt([9.0, 3.0, 4.0, 3.0, 0.5]))
    # Row 1 covers a (the most important) and b; then row 2 adds c and d; then row 4 adds e.
    assert sp.V == [1, 2, 4]
    np.testing.assert_allclose(sp.coverage, np.cumsum([3 + np.sqrt(3), 2 + np.sqrt(3),
                                                       np.sqrt(0.5)]))
    assert [int(np.flatnonzero(e.values[0, 0])[0]) for e in sp.sp_explanations] == [0, 2, 2]


@pytest.mark.parametrize("weights", [WEIGHTS, np.vstack([WEIGHTS, WEIGHTS[1]]),
                                     np.random.default_rng(0).normal(size=(12, 5))
                                     * (np.random.default_rng(1).uniform(size=(12, 5)) < 0.4)])
def test_same_pick_as_lime_on_the_same_explanations(weights):
    lime_sp = pytest.importorskip("lime.submodular_pick")
    data = np.arange(len(weights))
    ours = SubmodularPick(TableExplainer(weights), data, None, method="full",
                          num_exps_desired=4)
    theirs = lime_sp.SubmodularPick(TableExplainer(weights), data, None, method="full",
                                    num_exps_desired=4)
    assert ours.V == [int(v) for v in theirs.V]  # ties (the repeated row) go the same way
    assert len(ours.explanations) == len(theirs.explanations)


def test_sample_is_seeded_and_arguments_reach_the_explainer():
    explainer = TableExplainer(WEIGHTS)
    a = submodular_pick(explainer, np.arange(5), "f", sample_size=3, num_exps_desired=2,
                        num_features=4, random_state=3, num_samples=77)
    b = submodular_pick(TableExplainer(WEIGHTS), np.arange(5), "f", sample_size=3,
                        num_exps_desired=2, num_features=4, random_state=3, num_samples=77)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.V == b.V and len(a.explanations) == 3 and len(set(a.indices.tolist())) == 3
    assert explainer.calls[0][1:] == (4, 1, {"num_samples": 77})
    assert a.params["random_state"] == 3


def test_real_lime_explanations_cover_both_regimes():
    """f = 5 x0 where x2 > 0, 5 x1 elsewhere: two picks cover x0 and x1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    X[:, 2] = np.where(np.arange(400) % 2 == 0, 2.0, -2.0) + 0.1 * rng.normal(size=400)

    def f(A):
        return np.where(A[:, 2] > 0, 5 * A[:, 0], 5 * A[:, 1])

    explainer = LimeTabularExplainer(X, mode="regression", discretize_continuous=False,
                                     feature_names=["x0", "x1", "x2"], random_state=0,
                                     sample_around_instance=True, kernel_width=0.5)
    sp = submodular_pick(explainer, X, f, sample_size=20, num_exps_desired=2, num_features=1,
                         random_state=0, num_samples=600, feature_key="name")
    top = {e.as_list(1)[0][0] for e in sp.sp_explanations}
    assert top == {"x0", "x1"}
    assert sp.coverage[-1] == pytest.approx(sp.importance.sum())


def test_warnings_progress_and_cancellation():
    with pytest.warns(UserWarning, match="sample_size"):
        sp = submodular_pick(TableExplainer(WEIGHTS), np.arange(5), None, sample_size=50,
                             num_exps_desired=2, random_state=0)
    assert len(sp.explanations) == 5
    with pytest.warns(UserWarning, match="num_exps_desired"):
        sp = submodular_pick(TableExplainer(WEIGHTS), np.arange(5), None, method="full",
                             num_exps_desired=9)
    assert sorted(sp.V) == [0, 1, 2, 3, 4]
    done = []
    submodular_pick(TableExplainer(WEIGHTS), np.arange(5), None, method="full",
                    callback=lambda a, b: done.append((a, b)))
    assert done == [(i, 5) for i in range(1, 6)]
    with pytest.raises(Cancelled):
        submodular_pick(TableExplainer(WEIGHTS), np.arange(5), None, method="full",
                        callback=lambda a, b: False)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"method": "some"}, InputError, "method"),
    ({"feature_key": "index"}, InputError, "feature_key"),
    ({"sample_size": 0}, InputError, "sample_size"),
    ({"num_exps_desired": 0}, InputError, "num_exps_desired"),
    ({"num_features": 2.5}, InputTypeError, "num_features"),
    ({"random_state": "x"}, InputTypeError, "random_state"),
    ({"data": []}, InputError, "data"),
    ({"data": 5}, InputTypeError, "data"),
    ({"explainer": object()}, InputTypeError, "explainer"),
])
def test_bad_input(kwargs, error, match):
    args = {"explainer": TableExplainer(WEIGHTS), "data": np.arange(5), "predict_fn": None}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        submodular_pick(**args)
