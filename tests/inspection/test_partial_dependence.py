"""Partial dependence and ICE: known curves, recursion = brute, scikit-learn's values, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeRegressor

from whylens.errors import Cancelled, InputError, InputTypeError
from whylens.inspection import PartialDependenceResult, SubsamplingWarning, partial_dependence


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=150, n_features=4, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(n_samples=150, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)
    return X, y


@pytest.mark.parametrize("power", [1, 2, 3])
def test_pd_of_a_power_recovers_the_curve(power):
    """y = x0^p with a second, independent feature: the PD of x0 is x^p exactly (the model
    is the function), and for a fitted forest it has R² > 0.99 against x^p."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = X[:, 0] ** power

    exact = partial_dependence(lambda Z: Z[:, 0] ** power + 0 * Z[:, 1], X, 0,
                               grid_resolution=30)
    grid = exact.grid_values[0][0]
    np.testing.assert_allclose(exact.average[0][0], grid**power, atol=1e-12)

    forest = RandomForestRegressor(n_estimators=30, random_state=0).fit(X, y)
    fitted = partial_dependence(forest, X, 0, grid_resolution=30, method="brute")
    curve = fitted.average[0][0]
    truth = grid**power
    r2 = 1 - np.sum((curve - truth - np.mean(curve - truth)) ** 2) / np.sum(
        (truth - truth.mean()) ** 2)
    assert r2 > 0.99


def test_ice_of_an_additive_model_are_parallel_and_centred_ice_coincide():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))

    def f(Z):
        return np.sin(Z[:, 0]) + Z[:, 1] ** 2 - Z[:, 2]

    r = partial_dependence(f, X, [0, (0, 1)], kind="both", centered=True, grid_resolution=11)
    ice = r.individual[0][0]  # (rows, grid)
    np.testing.assert_allclose(ice, np.broadcast_to(ice[0], ice.shape), atol=1e-12)
    np.testing.assert_allclose(ice[:, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(r.average[0][0], ice[0], atol=1e-12)
    grid = r.grid_values[0][0]
    np.testing.assert_allclose(r.average[0][0], np.sin(grid) - np.sin(grid[0]), atol=1e-12)
    assert r.average[1].shape == (1, 11, 11)
    assert r.average[1][0, 0, 0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("estimator, output", [
    (GradientBoostingRegressor(n_estimators=30, max_depth=1, random_state=0), "auto"),
    (HistGradientBoostingRegressor(max_iter=20, max_depth=1, random_state=0), "auto"),
    (RandomForestRegressor(n_estimators=10, max_depth=1, bootstrap=False, max_features=None,
                           random_state=0), "auto"),
    (ExtraTreesRegressor(n_estimators=10, max_depth=1, random_state=0), "auto"),
    (DecisionTreeRegressor(max_depth=1, random_state=0), "auto"),
    (GradientBoostingClassifier(n_estimators=20, max_depth=1, random_state=0), "decision"),
    (HistGradientBoostingClassifier(max_iter=10, max_depth=1, random_state=0), "decision"),
    (GradientBoostingClassifier(n_estimators=10, max_depth=1, random_state=0), "binary"),
    (GradientBoostingClassifier(n_estimators=10, max_depth=1, init="zero", random_state=0),
     "binary"),
    (HistGradientBoostingClassifier(max_iter=10, max_depth=1, random_state=0), "binary"),
])
def test_recursion_equals_brute_on_the_training_data(estimator, output, regression,
                                                     three_classes):
    """Stumps: each tree splits one column, so averaging over the training rows (brute)
    and weighting by the training counts (recursion) agree, the boosting's start included."""
    classifier = output in ("decision", "binary")
    X, y = three_classes if classifier else regression
    if output == "binary":
        y = (y == 1).astype(int)
        output = "decision"
    estimator.fit(X, y)
    kwargs = {"grid_resolution": 25, "output": output}
    rec = partial_dependence(estimator, X, [0, 2, (1, 3)], method="recursion", **kwargs)
    brute = partial_dependence(estimator, X, [0, 2, (1, 3)], method="brute", **kwargs)
    assert rec.method == "recursion" and brute.method == "brute"
    assert rec.n_evals == 0
    assert rec.target_names == brute.target_names
    for a, b in zip(rec.average, brute.average, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)
    auto = partial_dependence(estimator, X, [0], **kwargs)
    assert auto.method == "recursion"
    with pytest.warns(SubsamplingWarning):  # rows to average over: brute force
        assert partial_dependence(estimator, X, [0], subsample=0.5, random_state=0,
                                  **kwargs).method == "brute"


@pytest.mark.parametrize("kind", ["average", "individual", "both"])
@pytest.mark.parametrize("features, sk_features", [(0, [0]), ([(0, 2)], [0, 2])])
def test_equal_to_scikit_learn_for_a_regressor(kind, features, sk_features, regression):
    X, y = regression
    model = GradientBoostingRegressor(n_estimators=10, random_state=0).fit(X, y)
    ours = partial_dependence(model, X, features, kind=kind, grid_resolution=12,
                              method="brute")
    theirs = sk_partial_dependence(model, X, sk_features, kind=kind, grid_resolution=12,
                                   method="brute")
    for ours_grid, their_grid in zip(ours.grid_values[0], theirs["grid_values"], strict=True):
        np.testing.assert_array_equal(ours_grid, their_grid)
    if kind != "individual":
        np.testing.assert_allclose(ours.average[0], theirs["average"], atol=1e-10, rtol=0)
    if kind != "average":
        np.testing.assert_allclose(ours.individual[0], theirs["individual"], atol=1e-10,
                                   rtol=0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_equal_to_scikit_learn_for_every_class(n_classes):
    X, y = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=n_classes, random_state=0)
    labels = np.array(["ant", "bee", "cat"])[y]
    clf = LogisticRegression(max_iter=500).fit(X, labels)
    ours = partial_dependence(clf, X, [1, (0, 3)], kind="both", grid_resolution=9)
    assert ours.target_names == list(clf.classes_)
    assert ours.output == "probability"
    for s, sk_features in enumerate([[1], [0, 3]]):
        theirs = sk_partial_dependence(clf, X, sk_features, kind="both", grid_resolution=9)
        # scikit-learn shows the positive class of a binary classifier, every class otherwise
        rows = [1] if n_classes == 2 else list(range(n_classes))
        np.testing.assert_allclose(ours.average[s][rows], theirs["average"], atol=1e-10,
                                   rtol=0)
        np.testing.assert_allclose(ours.individual[s][rows], theirs["individual"], atol=1e-10,
                                   rtol=0)
    # probabilities of all classes add up to one at every grid point
    np.testing.assert_allclose(ours.average[0].sum(axis=0), 1.0, atol=1e-12)
    one = partial_dependence(clf, X, 1, target="bee", grid_resolution=9)
    np.testing.assert_allclose(one.average[0][0], ours.average[0][1], atol=1e-15)
    assert one.target_names == ["bee"]


def test_chosen_classes_by_index_and_name(three_classes):
    X, y = three_classes
    clf = LogisticRegression(max_iter=500).fit(X, y)
    full = partial_dependence(clf, X, 0, grid_resolution=7)
    part = partial_dependence(clf, X, 0, grid_resolution=7, target=[2, "0"])
    assert part.targets == [2, 0] and part.target_names == ["2", "0"]
    np.testing.assert_allclose(part.average[0], full.average[0][[2, 0]])


def test_brute_is_one_chunked_model_call_over_every_feature_and_grid_point(regression):
    X, y = regression
    lr = LinearRegression().fit(X, y)
    calls = []

    def model(rows):
        calls.append(len(rows))
        return lr.predict(rows)

    r = partial_dependence(model, X, [0, 1, (2, 3)], grid_resolution=10, kind="both")
    total = 150 * (10 + 10 + 100)
    assert calls == [1, total]  # one row to count the outputs, then everything
    assert r.n_evals == total
    calls.clear()
    seen = []
    partial_dependence(model, X, [0, 1, (2, 3)], grid_resolution=10, batch_size=4000,
                       callback=lambda done, tot: seen.append((done, tot)))
    assert max(calls) == 4000 and seen[-1] == (total, total)
    with pytest.raises(Cancelled):
        partial_dependence(model, X, 0, grid_resolution=10, batch_size=100,
                           callback=lambda done, tot: False)


def test_subsampling_is_reported_never_silent(three_classes):
    X, y = three_classes
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with pytest.warns(SubsamplingWarning, match="40 of the 150 rows"):
        r = partial_dependence(clf, X, 0, kind="both", subsample=40, random_state=0,
                               grid_resolution=5)
    assert r.sample_indices.shape == (40,) and r.n_samples == 150
    assert r.individual[0].shape == (3, 40, 5)
    full = partial_dependence(clf, X, 0, kind="both", grid_resolution=5)
    np.testing.assert_allclose(r.individual[0], full.individual[0][:, r.sample_indices])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert partial_dependence(clf, X, 0, subsample=150).sample_indices is None


def test_dataframe_names_and_categorical_columns():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.normal(size=80), "colour": rng.integers(0, 3, 80),
                          "age": rng.integers(20, 60, 80)})
    kinds = []

    def model(rows):
        kinds.append((type(rows).__name__, str(rows["colour"].dtype), str(rows["age"].dtype)))
        return rows["size"].to_numpy() + 2 * rows["colour"].to_numpy() + rows["age"].to_numpy()

    r = partial_dependence(model, frame, ["colour", ("size", "age")],
                           categorical_features=["colour"], grid_resolution=6)
    np.testing.assert_array_equal(r.grid_values[0][0], [0, 1, 2])
    assert r.categorical == [(True,), (False, False)]
    # the categorical integer column keeps its dtype; the grid of "age" has fractions
    assert {k[0] for k in kinds} == {"DataFrame"} and kinds[-1][1:] == ("int64", "float64")
    ages = r.grid_values[1][1]
    assert not np.allclose(ages, np.round(ages))
    expected_age = r.average[1][0][0] - r.average[1][0][0][0]
    np.testing.assert_allclose(expected_age, ages - ages[0], atol=1e-9)


def test_columns_by_negative_index_are_counted_from_the_end(regression):
    """A negative index names the same column as its positive twin (as numpy and
    scikit-learn read it): the same sets, the same curves."""
    X, y = regression
    model = LinearRegression().fit(X, y)
    neg = partial_dependence(model, X, [-1, (0, -3)], grid_resolution=5,
                             categorical_features=[-4])
    pos = partial_dependence(model, X, [3, (0, 1)], grid_resolution=5, categorical_features=[0])
    assert neg.features == pos.features == [(3,), (0, 1)]
    assert neg.categorical == pos.categorical == [(False,), (True, False)]
    for a, b in zip(neg.average, pos.average, strict=True):
        np.testing.assert_array_equal(a, b)


def test_deciles_and_json_round_trip(regression):
    X, y = regression
    model = LinearRegression().fit(X, y)
    r = partial_dependence(model, X, [0, (1, 2)], kind="both", grid_resolution=5)
    assert sorted(r.deciles) == [0, 1, 2] and r.deciles[0].shape == (9,)
    back = PartialDependenceResult.from_json(r.to_json())
    assert back.features == [(0,), (1, 2)]
    for a, b in zip(back.individual, r.individual, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.deciles[2], r.deciles[2])
    assert back.params == r.params and back.target_names == r.target_names


@pytest.fixture(scope="module")
def fitted(regression, three_classes):
    X, y = regression
    Xc, yc = three_classes
    return (X, LinearRegression().fit(X, y), LogisticRegression(max_iter=500).fit(Xc, yc),
            GradientBoostingRegressor(n_estimators=5, random_state=0).fit(X, y))


@pytest.mark.parametrize("which, kwargs, exc, match", [
    ("reg", {"features": 9}, InputError, r"^features: expected a column index in \[-4, 4\)"),
    ("reg", {"features": -5}, InputError, r"^features: expected a column index in \[-4, 4\)"),
    ("reg", {"features": "nope"}, InputError, "^features: expected a column of X"),
    ("reg", {"features": [(0, 1, 2)]}, InputError, "a pair of two different columns"),
    ("reg", {"features": [(1, 1)]}, InputError, "a pair of two different columns"),
    ("reg", {"features": []}, InputError, "at least one column"),
    ("reg", {"features": 1.5}, InputTypeError, "^features"),
    ("reg", {"grid_resolution": 1}, InputError, "^grid_resolution: expected an integer >= 2"),
    ("reg", {"percentiles": (0.9, 0.1)}, InputError, "^percentiles"),
    ("reg", {"percentiles": (0.5,)}, InputError, "^percentiles"),
    ("reg", {"kind": "mean"}, InputError, "^kind"),
    ("reg", {"method": "fast"}, InputError, "^method"),
    ("reg", {"method": "recursion"}, InputError, "recursion does not apply.*LinearRegression"),
    ("gb", {"method": "recursion", "kind": "both"}, InputError, "average only"),
    ("gb", {"method": "recursion", "subsample": 10}, InputError, "training data"),
    ("reg", {"output": "probability"}, InputError, "^output: expected 'auto' or 'predict' for "
                                                    "a regressor"),
    ("clf", {"target": 3}, InputError, r"^target: expected an output index in \[0, 3\)"),
    ("clf", {"target": "dog"}, InputError, "^target: expected an output index or one of"),
    ("clf", {"method": "recursion"}, InputError, "recursion does not apply"),
    ("reg", {"subsample": 0}, InputError, "^subsample"),
    ("reg", {"subsample": 1.5}, InputError, "^subsample"),
    ("reg", {"categorical_features": []}, InputError, "^categorical_features"),
    ("reg", {"categorical_features": [True]}, InputError, "boolean mask of 4"),
    ("reg", {"centered": "yes"}, InputTypeError, "^centered"),
    ("reg", {"batch_size": -1}, InputError, "^batch_size"),
])
def test_bad_input(fitted, which, kwargs, exc, match):
    X, reg, clf, gb = fitted
    model = {"reg": reg, "clf": clf, "gb": gb}[which]
    args = {"features": 0, **kwargs}
    with pytest.raises(exc, match=match):
        partial_dependence(model, X, args.pop("features"), **args)


def test_bad_X():
    with pytest.raises(InputError, match=r"^X: expected a non-empty 2-D array"):
        partial_dependence(lambda Z: Z[:, 0], np.zeros(5), 0)
    with pytest.raises(InputTypeError, match=r"^X"):
        partial_dependence(lambda Z: Z[:, 0], np.array([["a", "b"]]), 0)
    X = np.c_[np.r_[np.zeros(180), np.linspace(1, 2, 20)], np.ones(200)]
    with pytest.raises(InputError, match=r"^percentiles.*differ"):  # both quantiles are 0
        partial_dependence(lambda Z: Z[:, 0], X, 0, percentiles=(0.1, 0.2), grid_resolution=2)


def test_same_answer_from_several_threads(three_classes):
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    X, y = three_classes
    clf = LogisticRegression(max_iter=500).fit(X, y)
    ref = partial_dependence(clf, X, [0, (1, 2)], kind="both", grid_resolution=6,
                             progress=True)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: partial_dependence(
            clf, X, [0, (1, 2)], kind="both", grid_resolution=6), range(4)))
    for run in runs:
        for a, b in zip(run.individual, ref.individual, strict=True):
            np.testing.assert_array_equal(a, b)
    assert pickle.loads(pickle.dumps(ref)).features == ref.features
