"""Permutation importance: closed forms, groups, scikit-learn's scorers, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import scale

from whylens.errors import Cancelled, InputError, InputTypeError, SerializationError
from whylens.inspection import ImportanceResult, impurity_importance, permutation_importance


@pytest.fixture(scope="module")
def linear():
    X, y = make_regression(n_samples=500, n_features=6, noise=0.0, random_state=0)
    X = scale(X) * np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0])  # variances 1, 4, 0.25, 1, 9, 1
    return X, y, LinearRegression().fit(X, y)


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(n_samples=300, n_features=5, n_informative=3, n_classes=3,
                               random_state=0)
    return X, y, LogisticRegression(max_iter=500).fit(X, y)


def test_linear_regression_is_two_coef_squared_times_variance(linear):
    X, y, lr = linear
    r = permutation_importance(lr, X, y, scoring="neg_mean_squared_error", n_repeats=50,
                               random_state=0)
    expected = 2 * lr.coef_**2 * X.var(axis=0)
    # the MSE rise of one permutation is coef² · mean((x - x_perm)²), whose mean is
    # 2 var · n/(n-1); 50 repeats of 500 rows leave a few percent of noise
    np.testing.assert_allclose(r.importances_mean, expected, rtol=0.08, atol=1e-8)
    assert r.importances.shape == (6, 50)
    np.testing.assert_allclose(r.importances_std, r.importances.std(axis=1))
    assert r.names == [f"x{j}" for j in range(6)]
    assert r.baseline[0] == pytest.approx(0.0, abs=1e-12)


def test_same_seed_same_result_and_generator_accepted(linear):
    X, y, lr = linear
    a = permutation_importance(lr, X, y, random_state=3)
    b = permutation_importance(lr, X, y, random_state=3)
    np.testing.assert_array_equal(a.raw, b.raw)
    c = permutation_importance(lr, X, y, random_state=np.random.default_rng(3))
    assert c.raw.shape == a.raw.shape


@pytest.mark.parametrize("dummy", [DummyRegressor(), DummyClassifier(strategy="prior")])
def test_a_constant_model_gives_zeros(dummy):
    X, y = make_classification(n_samples=120, n_features=4, random_state=0)
    dummy.fit(X, y)
    r = permutation_importance(dummy, X, y, n_repeats=3, random_state=0)
    np.testing.assert_array_equal(r.raw, 0.0)


def test_group_of_two_copies_scores_like_the_feature_alone():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(size=300)
    y = 3 * a + b

    def alone(Z):  # the model on (a, b)
        return 3 * Z[:, 0] + Z[:, 1]

    def with_copies(Z):  # the same model on (a, a, b): the copies averaged
        return 3 * (Z[:, 0] + Z[:, 1]) / 2 + Z[:, 2]

    ref = permutation_importance(alone, np.c_[a, b], y, scoring="neg_mean_squared_error",
                                 n_repeats=10, random_state=1)
    grouped = permutation_importance(with_copies, np.c_[a, a, b], y,
                                     scoring="neg_mean_squared_error", n_repeats=10,
                                     feature_groups={"a": [0, 1], "b": [2]}, random_state=1)
    # the same permutations serve every group, so the joint permutation of the two copies
    # is exactly the permutation of the feature alone
    np.testing.assert_allclose(grouped.raw, ref.raw, rtol=1e-12)
    assert grouped.names == ["a", "b"]
    assert grouped.groups == [[0, 1], [2]]


def test_each_copy_alone_scores_zero_when_the_model_is_redundant():
    """With three copies and a median, permuting one copy changes nothing; permuting two
    together is permuting the feature."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=300), rng.normal(size=300)
    y = 2 * a + b

    def median_model(Z):
        return 2 * np.median(Z[:, :3], axis=1) + Z[:, 3]

    X = np.c_[a, a, a, b]
    single = permutation_importance(median_model, X, y, scoring="neg_mean_squared_error",
                                    n_repeats=8, random_state=0)
    np.testing.assert_allclose(single.importances_mean[:3], 0.0, atol=1e-12)
    assert single.importances_mean[3] > 1.0
    pair = permutation_importance(median_model, X, y, scoring="neg_mean_squared_error",
                                  n_repeats=8, random_state=0, feature_groups=[[1, 2]])
    ref = permutation_importance(lambda Z: 2 * Z[:, 0] + Z[:, 1], np.c_[a, b], y,
                                 scoring="neg_mean_squared_error", n_repeats=8, random_state=0,
                                 feature_groups=[[0]])
    np.testing.assert_allclose(pair.raw, ref.raw, rtol=1e-12)
    assert pair.names == ["x1+x2"]
    from_end = permutation_importance(median_model, X, y, scoring="neg_mean_squared_error",
                                      n_repeats=8, random_state=0, feature_groups=[[-3, -2]])
    assert from_end.groups == [[1, 2]] and from_end.names == ["x1+x2"]
    np.testing.assert_array_equal(from_end.raw, pair.raw)


def test_several_scorers_match_one_scorer_at_a_time(multiclass):
    X, y, clf = multiclass
    scoring = ["accuracy", "neg_log_loss", "roc_auc_ovr", "balanced_accuracy"]
    both = permutation_importance(clf, X, y, scoring=scoring, n_repeats=4, random_state=0)
    assert both.scorers == scoring
    for name in scoring:
        one = permutation_importance(clf, X, y, scoring=name, n_repeats=4, random_state=0)
        np.testing.assert_allclose(both[name].raw, one.raw, rtol=1e-12)
    # the replay stand-in gave each scorer the method scikit-learn would have called
    assert set(both.params["response_methods"]) == {"predict", "predict_proba"}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case, metrics", [
    ("regression", ["r2", "neg_mean_squared_error", "neg_root_mean_squared_error",
                    "neg_mean_absolute_error"]),
    ("binary", ["accuracy", "neg_log_loss"]),
    ("multiclass", ["accuracy", "neg_log_loss"]),
])
def test_vectorised_metrics_equal_scikit_learn_scorers(case, metrics, weighted, monkeypatch):
    """Scorers given by name are computed over every repeat at once; the same scorers given
    as objects go through scikit-learn's code one repeat at a time: equal values."""
    from sklearn.metrics import get_scorer

    from whylens.inspection import _permutation

    calls = []
    score = _permutation._score
    monkeypatch.setattr(_permutation, "_score", lambda *a: calls.append(1) or score(*a))

    if case == "regression":
        X, y = make_regression(n_samples=200, n_features=3, noise=5.0, random_state=0)
        model = LinearRegression().fit(X, y)
    else:
        X, y = make_classification(n_samples=200, n_features=4, n_informative=3,
                                   n_redundant=0, n_classes=2 if case == "binary" else 3,
                                   random_state=0)
        y = np.array(["no", "yes", "maybe"])[y]  # string labels, not sorted by code
        model = LogisticRegression(max_iter=500).fit(X, y)
    weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y)) if weighted else None
    by_name = permutation_importance(model, X, y, scoring=metrics, n_repeats=3,
                                     random_state=0, sample_weight=weight)
    assert calls == []  # no scorer was called: numpy over all repeats
    by_object = permutation_importance(model, X, y, scoring={m: get_scorer(m) for m in metrics},
                                       n_repeats=3, random_state=0, sample_weight=weight)
    np.testing.assert_allclose(by_name.baseline, by_object.baseline, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(by_name.raw, by_object.raw, rtol=1e-9, atol=1e-12)


def test_callable_and_dict_scorers_get_the_rows_and_the_stand_in(multiclass):
    X, y, clf = multiclass
    seen = []

    def mine(estimator, X_, y_):
        seen.append((type(X_), len(X_)))
        return float(np.mean(estimator.predict(X_) == y_))

    r = permutation_importance(clf, X, y, scoring={"mine": mine, "acc": "accuracy"},
                               n_repeats=2, random_state=0)
    np.testing.assert_allclose(r["mine"].raw, r["acc"].raw, rtol=1e-12)
    assert all(kind is np.ndarray and n == len(X) for kind, n in seen)


def test_permuted_scores_equal_scikit_learn_with_the_same_permutation(multiclass):
    """One repeat rebuilt by hand: the score of the rows with column j shuffled."""
    from sklearn.metrics import log_loss

    X, y, clf = multiclass
    r = permutation_importance(clf, X, y, scoring="neg_log_loss", n_repeats=2, random_state=7)
    rng = np.random.default_rng(7)
    perms = [rng.permutation(len(X)) for _ in range(2)]
    base = -log_loss(y, clf.predict_proba(X))
    for j in range(X.shape[1]):
        for t, perm in enumerate(perms):
            Xp = X.copy()
            Xp[:, j] = X[perm, j]
            assert r.importances[j, t] == pytest.approx(base + log_loss(y, clf.predict_proba(Xp)),
                                                        rel=1e-10)


def test_close_to_scikit_learn_on_a_forest():
    from sklearn.inspection import permutation_importance as sk_permutation_importance

    X, y = make_regression(n_samples=300, n_features=4, n_informative=2, random_state=0)
    forest = RandomForestRegressor(n_estimators=20, random_state=0).fit(X, y)
    ours = permutation_importance(forest, X, y, n_repeats=20, random_state=0)
    theirs = sk_permutation_importance(forest, X, y, n_repeats=20, random_state=0)
    np.testing.assert_allclose(ours.importances_mean, theirs.importances_mean, atol=0.05)


def test_plain_callable_with_probabilities_is_a_classifier(multiclass):
    X, y, clf = multiclass
    est = permutation_importance(clf, X, y, scoring=["accuracy", "neg_log_loss"], n_repeats=3,
                                 random_state=0)
    fn = permutation_importance(clf.predict_proba, X, y, scoring=["accuracy", "neg_log_loss"],
                                n_repeats=3, random_state=0)
    np.testing.assert_allclose(fn.raw, est.raw, rtol=1e-12)


def test_dataframe_reaches_the_model_and_names_come_from_columns(linear):
    pd = pytest.importorskip("pandas")
    X, y, _ = linear
    frame = pd.DataFrame(X, columns=[f"c{j}" for j in range(6)])
    lr = LinearRegression().fit(frame, y)
    kinds = []

    def model(rows):
        kinds.append(type(rows).__name__)
        return lr.predict(rows)

    r = permutation_importance(model, frame, y, n_repeats=2, random_state=0,
                               feature_groups=[["c0", "c1"], ["c4"]])
    assert set(kinds) == {"DataFrame"}
    assert r.names == ["c0+c1", "c4"]
    arr = permutation_importance(LinearRegression().fit(X, y).predict, X, y, n_repeats=2,
                                 random_state=0,
                                 feature_groups=[[0, 1], [4]])
    np.testing.assert_allclose(r.raw, arr.raw, rtol=1e-10)


def test_max_samples_is_reported_and_used_for_the_baseline(linear):
    X, y, lr = linear
    r = permutation_importance(lr, X, y, max_samples=100, n_repeats=2, random_state=0,
                               scoring="neg_mean_squared_error")
    assert r.sample_indices.shape == (100,) and r.n_samples == 500
    assert np.all(np.diff(r.sample_indices) > 0)
    r2 = permutation_importance(lr, X, y, max_samples=0.2, n_repeats=2, random_state=0)
    assert r2.sample_indices.shape == (100,)


def test_sample_weight_reaches_the_scorer(linear):
    X, y, lr = linear
    w = np.zeros(len(X))
    w[:10] = 1.0
    weighted = permutation_importance(lr, X, y, sample_weight=w, n_repeats=2, random_state=0,
                                      scoring="neg_mean_squared_error")
    assert weighted.raw.shape == (1, 6, 2)
    assert not np.allclose(weighted.raw, permutation_importance(
        lr, X, y, n_repeats=2, random_state=0, scoring="neg_mean_squared_error").raw)


def test_few_large_model_calls_and_batch_size_bounds_them(linear, monkeypatch):
    from whylens.inspection import _permutation

    X, y, lr = linear
    calls = []

    def model(rows):
        calls.append(len(rows))
        return lr.predict(rows)

    merged = permutation_importance(model, X, y, n_repeats=5, random_state=0,
                                    scoring=["r2", "explained_variance"])
    # 8 rows to read the output, the baseline, then every feature's 5 x 500 rows in one call
    assert calls == [8, 500, 6 * 2500]
    calls.clear()
    monkeypatch.setattr(_permutation, "ROWS_PER_CALL", 2500)  # one feature per call
    alone = permutation_importance(model, X, y, n_repeats=5, random_state=0,
                                   scoring=["r2", "explained_variance"])
    assert calls == [8, 500] + [2500] * 6
    np.testing.assert_array_equal(alone.raw, merged.raw)
    calls.clear()
    monkeypatch.setattr(_permutation, "ROWS_PER_CALL", 5000)  # two features per call
    chunked = permutation_importance(model, X, y, n_repeats=5, random_state=0, batch_size=700,
                                     scoring=["r2", "explained_variance"])
    assert max(calls) == 700  # chunks straddle the features' boundaries
    np.testing.assert_allclose(chunked.raw, merged.raw, rtol=1e-12, atol=1e-12)


def test_progress_callback_counts_every_row_and_can_cancel(linear):
    X, y, lr = linear
    seen = []
    permutation_importance(lr, X, y, n_repeats=2, random_state=0,
                           callback=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (6 * 2 * 500, 6 * 2 * 500)
    with pytest.raises(Cancelled):
        permutation_importance(lr, X, y, n_repeats=2, random_state=0,
                               callback=lambda done, total: False)


def test_json_round_trip(multiclass):
    X, y, clf = multiclass
    r = permutation_importance(clf, X, y, scoring=["accuracy", "neg_log_loss"], n_repeats=2,
                               random_state=0, max_samples=50)
    back = ImportanceResult.from_json(r.to_json())
    np.testing.assert_array_equal(back.raw, r.raw)
    np.testing.assert_array_equal(back.sample_indices, r.sample_indices)
    assert back.names == r.names and back.scorers == r.scorers and back.params == r.params
    with pytest.raises(SerializationError, match="format"):
        ImportanceResult.from_json('{"format": "whylens.Explanation/1"}')


def test_impurity_importance_of_a_forest():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    r = impurity_importance(forest)
    np.testing.assert_allclose(r.importances_mean, forest.feature_importances_)
    per_tree = np.array([t.feature_importances_ for t in forest.estimators_]).T
    np.testing.assert_allclose(r.importances, per_tree)
    np.testing.assert_allclose(r.importances_std, per_tree.std(axis=1))
    assert "high-cardinality" in impurity_importance.__doc__
    with pytest.raises(InputTypeError, match="feature_importances_"):
        impurity_importance(LinearRegression().fit(X, y))
    with pytest.raises(InputError, match="fitted"):
        impurity_importance(RandomForestClassifier())


def test_several_scorers_need_a_choice_for_sklearn_names(multiclass):
    X, y, clf = multiclass
    r = permutation_importance(clf, X, y, scoring=["accuracy", "neg_log_loss"], n_repeats=2,
                               random_state=0)
    with pytest.raises(InputError, match="result\\['accuracy'\\]"):
        r.importances_mean  # noqa: B018
    assert r.ranking("accuracy")[0] == r["accuracy"].ranking()[0]


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"y": np.zeros(7)}, InputError, "^y: expected one target per row of X"),
    ({"feature_groups": [[0, 1], [1, 2]]}, InputError, "do not overlap"),
    ({"feature_groups": [["nope"]]}, InputError, "^feature_groups: expected a column of X"),
    ({"feature_groups": [[9]]}, InputError, "column index in \\[-6, 6\\)"),
    ({"feature_groups": [[-7]]}, InputError, "column index in \\[-6, 6\\)"),
    ({"feature_groups": [[]]}, InputError, "at least one column"),
    ({"feature_groups": 3}, InputTypeError, "^feature_groups"),
    ({"scoring": "not_a_metric"}, InputError, "^scoring: expected a scikit-learn scorer name"),
    ({"scoring": 3.0}, InputTypeError, "^scoring"),
    ({"n_repeats": 0}, InputError, "^n_repeats"),
    ({"max_samples": 501}, InputError, "^max_samples"),
    ({"max_samples": 1.5}, InputError, "^max_samples"),
    ({"sample_weight": np.ones(3)}, InputError, "^sample_weight"),
    ({"batch_size": 0}, InputError, "^batch_size"),
    ({"callback": 3}, InputTypeError, "^callback"),
    ({"random_state": "x"}, InputTypeError, "^random_state"),
])
def test_bad_input(linear, kwargs, exc, match):
    X, y, lr = linear
    args = {"y": y, **kwargs}
    with pytest.raises(exc, match=match):
        permutation_importance(lr, X, args.pop("y"), **args)


def test_unfitted_estimator_and_bad_X():
    with pytest.raises(InputError, match="fit"):
        permutation_importance(LinearRegression(), np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(InputError, match=r"^X: expected a non-empty 2-D array"):
        permutation_importance(lambda Z: Z.sum(axis=1), np.zeros(4), np.zeros(4))


def test_same_answer_from_several_threads_and_with_a_progress_bar(linear):
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    X, y, lr = linear
    ref = permutation_importance(lr, X, y, n_repeats=3, random_state=0,
                                 scoring=["r2", "explained_variance"], progress=True)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: permutation_importance(
            lr, X, y, n_repeats=3, random_state=0, scoring=["r2", "explained_variance"]),
            range(4)))
    for run in runs:
        np.testing.assert_array_equal(run.raw, ref.raw)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ref)).raw, ref.raw)
