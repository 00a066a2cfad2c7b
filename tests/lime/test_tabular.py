"""LimeTabularExplainer: known answers, lime agreement, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError, ModelError, ModelOutputError
from whylens.lime import LimeTabularExplainer

from ..conftest import linear_predict


def test_linear_model_coefficients_recovered_exactly():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5)) * [1.0, 2.0, 0.5, 3.0, 1.0] + [0, 1, 2, 3, 4]
    w = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    explainer = LimeTabularExplainer(X, mode="regression", discretize_continuous=False,
                                     feature_selection="none", random_state=1)
    exp = explainer.explain_instance(X[3], linear_predict(w, 0.7), num_features=5,
                                     model_regressor=LinearRegression())
    # the surrogate works in standardised units: coefficient = w * training std
    np.testing.assert_allclose(exp.values[0, 0], w * X.std(axis=0), atol=1e-8)
    assert exp.score[1] == pytest.approx(1.0, abs=1e-12)
    assert exp.local_pred[1][0] == pytest.approx(X[3] @ w + 0.7, abs=1e-8)
    assert dict(exp.as_list(1))["1"] == pytest.approx(-2.0 * X[:, 1].std(), abs=1e-8)


def test_default_ridge_is_close_to_the_truth():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    w = np.array([2.0, -1.0, 0.0])
    explainer = LimeTabularExplainer(X, mode="regression", discretize_continuous=False,
                                     feature_selection="none", random_state=1)
    exp = explainer.explain_instance(X[0], linear_predict(w), num_features=3)
    np.testing.assert_allclose(exp.values[0, 0], w * X.std(axis=0), atol=0.01)


def test_same_seed_same_explanation_bit_for_bit(breast_cancer):
    from sklearn.linear_model import LogisticRegression

    X, y, names, classes = breast_cancer
    clf = LogisticRegression(max_iter=5000).fit(X, y)
    make = lambda seed: LimeTabularExplainer(  # noqa: E731
        X, feature_names=names, class_names=classes, random_state=seed)
    a = make(7).explain_instance(X[0], clf.predict_proba, num_samples=800)
    b = make(7).explain_instance(X[0], clf.predict_proba, num_samples=800)
    c = make(8).explain_instance(X[0], clf.predict_proba, num_samples=800)
    assert a == b
    assert a.values.tobytes() == b.values.tobytes()
    assert a != c
    again = make(7)
    assert again.explain_instance(X[0], clf, num_samples=800) == \
        again.explain_instance(X[0], clf, num_samples=800)


def test_threads_and_a_model_that_explains_again_get_the_sequential_answers(breast_cancer):
    """Scratch arrays are never lent to two borrowers at once: explanations run in
    parallel threads, or from inside the model of another explanation, equal
    the ones run one after the other."""
    import threading

    from sklearn.linear_model import LogisticRegression

    X, y, names, _ = breast_cancer
    clf = LogisticRegression(max_iter=5000).fit(X, y)
    explainer = LimeTabularExplainer(X, feature_names=names, random_state=3)
    rows = [0, 5, 9, 13]
    expected = [explainer.explain_instance(X[r], clf.predict_proba, num_samples=700)
                for r in rows]
    got: dict[int, object] = {}

    def run(i: int) -> None:
        for _ in range(3):
            got[i] = explainer.explain_instance(X[rows[i]], clf.predict_proba,
                                                num_samples=700)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(rows))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(rows))] == expected

    inner: list[object] = []

    def nested(batch: np.ndarray) -> np.ndarray:
        if not inner:
            inner.append(explainer.explain_instance(X[rows[1]], clf.predict_proba,
                                                    num_samples=700))
        return clf.predict_proba(batch)

    assert explainer.explain_instance(X[rows[0]], nested, num_samples=700) == expected[0]
    assert inner[0] == expected[1]


def test_agrees_with_lime_on_breast_cancer(breast_cancer):
    lime_tabular = pytest.importorskip("lime.lime_tabular")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names, classes = breast_cancer
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    ours = LimeTabularExplainer(X, feature_names=names, class_names=classes, random_state=0)
    ours_lists = [ours.explain_instance(X[i], clf.predict_proba).as_list(1)
                  for i in range(0, 200, 10)]
    # Measured: two lime runs with different seeds share >= 2 of their top-3 features on
    # 16-20 of these 20 rows (the features are strongly correlated); whylens is held to
    # the same standard against two lime seeds.
    agree = 0
    for seed in (0, 1):
        theirs = lime_tabular.LimeTabularExplainer(X, feature_names=names,
                                                   class_names=classes, random_state=seed)
        for i, a in zip(range(0, 200, 10), ours_lists, strict=True):
            b = theirs.explain_instance(X[i], clf.predict_proba).as_list(1)
            agree += len({n for n, _ in a[:3]} & {n for n, _ in b[:3]}) >= 2
            shared = dict(a).keys() & dict(b).keys()
            for name in shared:  # a feature both keep pushes the same way
                assert np.sign(dict(a)[name]) == np.sign(dict(b)[name])
    assert agree >= 30  # of 40


def test_a_discretizer_shared_by_two_explainers_is_copied_not_refitted():
    """A Discretizer passed by the user is copied and the copy fitted: two explainers
    built from one object on different data each explain as with a fresh discretizer
    (the shared object was refitted in place and kept the first data's one-row bin
    table), and the object passed is left as it was, unfitted or fitted."""
    from sklearn.datasets import load_iris

    from whylens.representations.tabular import Discretizer

    X = load_iris().data

    def predict(rows):
        p = 1.0 / (1.0 + np.exp(rows[:, 0] - 5.8))
        return np.column_stack([p, 1.0 - p])

    shared = Discretizer("quartile")
    first = LimeTabularExplainer(X + 3.0, discretizer=shared, random_state=0)
    first.explain_instance(X[0] + 3.0, predict, num_samples=300)
    second = LimeTabularExplainer(X, discretizer=shared, random_state=0)
    fresh = LimeTabularExplainer(X, discretizer="quartile", random_state=0)
    got = second.explain_instance(X[100], predict, num_samples=500)
    expected = fresh.explain_instance(X[100], predict, num_samples=500)
    assert got.as_list(1) == expected.as_list(1)
    assert got.as_list(1)[0][0] == "5.80 < 0 <= 6.40"
    assert not hasattr(shared, "columns")  # never fitted

    fitted = Discretizer("decile").fit(X * 2.0, range(4), ["a", "b", "c", "d"])
    before = {key: (value.copy() if isinstance(value, np.ndarray) else value)
              for key, value in vars(fitted).items()}
    before_edges = [e.copy() for e in fitted.edges]
    LimeTabularExplainer(X, discretizer=fitted, random_state=0).explain_instance(
        X[5], predict, num_samples=200)
    assert vars(fitted).keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(vars(fitted)[key], value)
        elif key != "edges":
            assert vars(fitted)[key] == value
    for a, b in zip(fitted.edges, before_edges, strict=True):
        np.testing.assert_array_equal(a, b)


def test_categorical_features_and_names():
    rng = np.random.default_rng(0)
    n = 2000
    X = np.column_stack([rng.integers(0, 3, n), rng.normal(size=n)])

    def predict(Z):
        p = np.where(Z[:, 0] == 2, 0.9, 0.2)
        return np.column_stack([1 - p, p])

    explainer = LimeTabularExplainer(
        X, feature_names=["colour", "size"], categorical_features=[0],
        categorical_names={0: ["red", "green", "blue"]}, class_names=["no", "yes"],
        random_state=0)
    exp = explainer.explain_instance(np.array([2.0, 0.1]), predict, num_features=2)
    (top, weight), _ = exp.as_list(1)
    assert top == "colour=blue"
    assert weight == pytest.approx(0.7, abs=0.03)  # 0.9 - 0.2: the only effect
    assert exp.output_names == ["no", "yes"]


def test_top_labels_and_multiclass():
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_iris(return_X_y=True)
    clf = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    explainer = LimeTabularExplainer(X, random_state=0)
    exp = explainer.explain_instance(X[120], clf.predict_proba, top_labels=2, num_samples=500)
    proba = clf.predict_proba(X[120:121])[0]
    assert exp.top_labels == list(np.argsort(proba)[::-1][:2])
    assert exp.available_labels() == exp.top_labels
    assert set(exp.as_map()) == set(exp.top_labels)


def test_regression_mode_as_lime():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    explainer = LimeTabularExplainer(X, mode="regression", random_state=0)
    exp = explainer.explain_instance(X[0], linear_predict([3.0, 0.0]), num_features=2)
    assert exp.labels.tolist() == [0]
    assert exp.as_list(1)[0][1] == -exp.as_list(0)[0][1]
    assert exp.params["y_range"][0] < exp.params["y_range"][1]


def test_progress_callback_sees_every_row(breast_cancer):
    X, _, _, _ = breast_cancer
    seen = []
    explainer = LimeTabularExplainer(X, random_state=0)
    explainer.explain_instance(X[0], lambda Z: np.column_stack([Z[:, 0] * 0, Z[:, 0] * 0 + 1]),
                               num_samples=300, callback=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (300, 300)


def _proba(Z):
    p = 1 / (1 + np.exp(-Z[:, 0]))
    return np.column_stack([1 - p, p])


MODEL_FAILURE = ValueError("model exploded")


def _raises(Z):
    raise MODEL_FAILURE


X_GOOD = np.random.default_rng(0).normal(size=(50, 3))


@pytest.mark.parametrize(
    ("init", "call", "error", "match"),
    [
        ({"training_data": np.zeros(5)}, None, InputError, "training_data"),
        ({"training_data": [["a", "b"], ["c", "d"]]}, None, InputTypeError, "training_data"),
        ({"training_data": np.full((5, 2), np.nan)}, None, InputError, "NaN"),
        ({"feature_names": ["a", "b"]}, None, InputError, "feature_names"),
        ({"mode": "ranking"}, None, InputError, "mode"),
        ({"discretizer": "octile"}, None, InputError, "discretizer"),
        ({"discretizer": "entropy"}, None, InputError, "training_labels"),
        ({"feature_selection": "magic"}, None, InputError, "feature_selection"),
        ({"categorical_features": [5]}, None, InputError, "categorical_features"),
        ({"kernel_width": -1.0}, None, InputError, "kernel_width"),
        ({"random_state": "seed"}, None, InputTypeError, "random_state"),
        ({}, {"data_row": np.zeros(4)}, InputError, "data_row"),
        ({}, {"data_row": np.zeros((2, 3))}, InputError, "data_row"),
        ({}, {"data_row": np.array([0.0, np.nan, 1.0])}, InputError, "NaN"),
        ({}, {"num_samples": 0}, InputError, "num_samples"),
        ({}, {"num_samples": 2.5}, InputTypeError, "num_samples"),
        ({}, {"num_features": 0}, InputError, "num_features"),
        ({}, {"labels": (2,)}, InputError, "labels"),
        ({}, {"labels": (-1,)}, InputError, "labels"),
        ({}, {"predict_fn": lambda Z: Z[:, 0]}, InputError, "predict_proba"),
        ({}, {"predict_fn": lambda Z: np.full((len(Z), 2), np.nan)}, ModelOutputError, "NaN"),
        ({}, {"predict_fn": lambda Z: np.array([["a", "b"]] * len(Z))}, ModelOutputError,
         "dtype"),
        ({}, {"predict_fn": lambda Z: _proba(Z)[:-1]}, ModelOutputError, "rows"),
        ({}, {"predict_fn": _raises}, ModelError, "model exploded"),
        ({}, {"distance_metric": "nonsense"}, InputError, "distance_metric"),
        ({"mode": "regression"}, {"predict_fn": _proba}, ModelOutputError, "regression"),
    ],
)
def test_bad_input(init, call, error, match):
    kwargs = {"training_data": X_GOOD, **init}
    if call is None:
        with pytest.raises(error, match=match):
            LimeTabularExplainer(**kwargs)
        return
    explainer = LimeTabularExplainer(**kwargs)
    args = {"data_row": X_GOOD[0], "predict_fn": _proba, "num_samples": 100, **call}
    with pytest.raises(error, match=match) as info:
        explainer.explain_instance(**args)
    if error is ModelError:  # the model's own exception, chained, not replaced
        assert info.value.__cause__ is MODEL_FAILURE


def test_warns_when_classifier_outputs_do_not_sum_to_one(breast_cancer):
    """As lime: probabilities that do not sum to one are explained as they are,
    with a warning; ones that do (to 1e-6) give none."""
    import warnings

    X, _, _, _ = breast_cancer
    explainer = LimeTabularExplainer(X, random_state=0)
    scores = lambda a: np.column_stack([a[:, 0] / 30.0, a[:, 1] / 40.0])  # noqa: E731
    with pytest.warns(UserWarning, match="do not sum to 1"):
        explainer.explain_instance(X[0], scores, num_samples=200)
    probs = lambda a: np.column_stack([a[:, 0] / 30.0, 1.0 - a[:, 0] / 30.0])  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explainer.explain_instance(X[0], probs, num_samples=200)


def test_a_model_that_keeps_its_input_keeps_valid_rows(breast_cancer):
    """The rows given to the model are new memory on every call, the model's to
    keep: stored inputs (or an output that is a view of them) stay what the model
    saw, and the explanations equal those of a model that copies."""
    X, _, _, _ = breast_cancer
    explainer = LimeTabularExplainer(X, mode="regression", random_state=0)
    kept: list[np.ndarray] = []
    copies: list[np.ndarray] = []

    def keeps(batch: np.ndarray) -> np.ndarray:
        kept.append(batch)
        copies.append(batch.copy())
        return batch[:, 0]  # a view of the input

    def plain(batch: np.ndarray) -> np.ndarray:
        return batch.copy()[:, 0]  # the same strided output, from a copy

    first = [explainer.explain_instance(X[r], keeps, num_samples=300) for r in (0, 1, 2)]
    for a, b in zip(kept, copies, strict=True):
        np.testing.assert_array_equal(a, b)
    again = [explainer.explain_instance(X[r], plain, num_samples=300) for r in (0, 1, 2)]
    assert first == again


@pytest.mark.parametrize("compiled", [True, False])
def test_sample_around_instance_centres_the_samples_on_the_row(monkeypatch, compiled):
    """Without discretisation, lime draws N(mean, std) per column, or N(row, std) with
    sample_around_instance=True: the model's inputs are centred on the instance, not on
    the training mean, with the training spread."""
    if not compiled:
        from whylens.representations import tabular

        monkeypatch.setattr(tabular, "_compiled_kernel", lambda: None)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3)) * [1.0, 2.0, 0.5] + [0.0, 10.0, -3.0]
    row = np.array([6.0, -4.0, 2.0])  # far from the training mean
    w = np.array([1.0, -1.0, 2.0])
    seen: list[np.ndarray] = []

    def model(batch):
        seen.append(batch.copy())
        return batch @ w

    n = 5000
    for around, centre in ((True, row), (False, X.mean(axis=0))):
        seen.clear()
        explainer = LimeTabularExplainer(X, mode="regression", discretize_continuous=False,
                                         sample_around_instance=around,
                                         feature_selection="none", random_state=0)
        exp = explainer.explain_instance(row, model, num_samples=n)
        rows = np.concatenate(seen)
        assert rows.shape == (n, 3)
        np.testing.assert_array_equal(rows[0], row)  # row 0 is the instance itself
        # 5 standard errors of the mean of n draws
        error = np.abs(rows[1:].mean(axis=0) - centre)
        assert (error < 5 * X.std(axis=0) / np.sqrt(n)).all(), (error, centre)
        np.testing.assert_allclose(rows[1:].std(axis=0), X.std(axis=0), rtol=0.05)
        if around:  # the kernel weighs samples near the row: a linear model is recovered
            np.testing.assert_allclose(exp.values[0, 0], w * X.std(axis=0), rtol=1e-3)
        assert exp.params["sample_around_instance"] is around


@pytest.mark.parametrize("bounded", [False, True])
def test_the_model_gets_whole_chunks_never_one_row(breast_cancer, bounded):
    """The perturbed rows reach the model in one call (default budget) or in chunks
    bounded by the memory budget, never one row at a time."""
    from sklearn.linear_model import LogisticRegression

    from whylens.models import as_model

    X, y, _, _ = breast_cancer
    clf = LogisticRegression(max_iter=5000).fit(X, y)
    sizes: list[int] = []

    def predict(batch):
        sizes.append(len(batch))
        return clf.predict_proba(batch)

    # 30 float64 columns x working factor 8 = 1920 bytes a row: 600 rows a chunk
    model = as_model(predict, memory_budget=1920 * 600) if bounded else predict
    LimeTabularExplainer(X, random_state=0).explain_instance(X[0], model, num_samples=5000)
    assert sum(sizes) == 5000
    if bounded:
        assert len(sizes) > 1 and max(sizes) <= model.last_chunks.cap == 600
        assert min(sizes) > 1
    else:
        assert sizes == [5000]


@pytest.mark.parametrize(
    ("kwargs", "init", "match"),
    [
        ({"distance_metric": "nonsense"}, {}, "distance_metric"),
        ({}, {"kernel": lambda d, w: -np.ones_like(d)}, "weights"),
        ({}, {"kernel": lambda d, w: np.full_like(d, np.nan)}, "finite"),
    ],
)
def test_bad_metric_or_kernel_is_reported_before_the_model_runs(kwargs, init, match):
    """Distances, kernel weights and the surrogate's Gram matrix need no model
    output: they are computed (and checked) before the model is called, so a bad
    metric or kernel costs no model time."""
    calls = []

    def model(rows):
        calls.append(len(rows))
        return _proba(rows)

    explainer = LimeTabularExplainer(X_GOOD, random_state=0, **init)
    with pytest.raises(InputError, match=match):
        explainer.explain_instance(X_GOOD[0], model, num_samples=100, **kwargs)
    assert calls == []
