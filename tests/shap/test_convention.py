"""SHAP on the calling convention: target, batch_size, progress, callback, DataFrames,
pickling and threads."""

from __future__ import annotations

import pickle
import threading
import warnings

import numpy as np
import pytest

from whylens.errors import Cancelled, InputError
from whylens.models import as_model
from whylens.representations import (
    Representation,
    TabularRepresentation,
    evaluate,
)
from whylens.shap import (
    ExactExplainer,
    KernelExplainer,
    LinearExplainer,
    PermutationExplainer,
    TabularMasker,
    TextMasker,
    summarize_background,
)


def _three_outputs(A):
    """Rows scored independently (elementwise numpy), three outputs with interactions."""
    A = np.asarray(A, dtype=float)
    return np.column_stack([A[:, 0] * A[:, 1] + np.sin(A[:, 2]), A[:, 3] ** 2 - A[:, 4],
                            A[:, 5] * A[:, 0] + A[:, 1]])


def _words(texts):
    return np.array([[t.count("good") - 2.0 * t.count("bad") + 0.1 * len(t), t.count("a")]
                     for t in texts])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 6)), rng.normal(size=(5, 6))


MAKERS = [
    ("exact", lambda bg, **kw: ExactExplainer(_three_outputs, bg, **kw)),
    ("kernel", lambda bg, **kw: KernelExplainer(_three_outputs, bg, nsamples=30,
                                                random_state=3, **kw)),
    ("permutation", lambda bg, **kw: PermutationExplainer(_three_outputs, bg, max_evals=40,
                                                          random_state=3, **kw)),
]


@pytest.mark.parametrize("name,make", MAKERS)
def test_target_per_row_equals_each_row_alone(name, make, data):
    bg, X = data
    target = [2, 0, 1, 1, 0]
    explainer = make(bg, output_names=["a", "b", "c"])
    every = explainer(X)
    exp = explainer(X, target=target)
    assert exp.values.shape == (5, 1, 6) and exp.labels.shape == (5, 1)
    assert exp.labels[:, 0].tolist() == target
    np.testing.assert_array_equal(exp.values[:, 0], every.values[np.arange(5), target])
    np.testing.assert_array_equal(exp.base_values[:, 0], every.base_values[np.arange(5), target])
    np.testing.assert_array_equal(exp.output, every.output)  # every output kept
    for i, t in enumerate(target):
        alone = explainer(X[i : i + 1], target=t)
        assert alone.labels.tolist() == [t]
        np.testing.assert_allclose(alone.values[0, 0], exp.values[i, 0], rtol=0, atol=1e-12)
        assert exp[i].labels.tolist() == [t]
    by_name = explainer(X, target="b")
    assert by_name.labels.tolist() == [1]
    np.testing.assert_array_equal(by_name.values[:, 0], every.values[:, 1])
    predicted = explainer(X, target=None)
    np.testing.assert_array_equal(predicted.labels.reshape(-1), every.output.argmax(1))
    # shap's layout: one explained output per row drops the label axis
    assert explainer.shap_values(X, target=target).shape == (5, 6)
    assert explainer.shap_values(X).shape == (5, 6, 3)


def test_target_text_and_classifier_class_names():
    exp = ExactExplainer(_words, TextMasker())(["good a bad", "a good"], target=[1, 0])
    assert exp.labels.tolist() == [[1], [0]]
    every = ExactExplainer(_words, TextMasker())(["good a bad", "a good"])
    np.testing.assert_array_equal(exp.values[:, 0], every.values[[0, 1], [1, 0]])
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    y = np.array(["cat", "dog", "eel"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    clf = LogisticRegression().fit(X, y)
    named = KernelExplainer(clf, X[:6], nsamples=16)(X[:3], target="dog")
    assert named.labels.tolist() == [1] and named.output_names == ["cat", "dog", "eel"]


def test_linear_explainer_target_per_row_and_callback(data):
    from sklearn.linear_model import LogisticRegression

    bg, X = data
    rng = np.random.default_rng(4)
    A = rng.normal(size=(90, 6))
    clf = LogisticRegression().fit(A, np.array(["x", "y", "z"])[rng.integers(0, 3, size=90)])
    explainer = LinearExplainer(clf, bg)
    every = explainer(X)
    exp = explainer(X, target=["z", "x", "y", "y", "z"])
    assert exp.labels[:, 0].tolist() == [2, 0, 1, 1, 2]
    np.testing.assert_array_equal(exp.values[:, 0], every.values[np.arange(5), [2, 0, 1, 1, 2]])
    np.testing.assert_array_equal(explainer(X, target=None).labels.reshape(-1),
                                  every.output.argmax(1))
    seen = []
    explainer(X, callback=lambda d, t: seen.append((d, t)))
    assert seen == [(5, 5)]
    with pytest.raises(Cancelled):
        explainer(X, callback=lambda d, t: False)


@pytest.mark.parametrize("target,match", [
    ([0, 1], r"target: expected one target per row: a sequence of length 5.*labels="),
    (3, r"target: expected an output index in \[0, 3\)"),
    ("z", r"target: expected an output index or one of the output names"),
    (np.zeros((5, 2), dtype=int), r"target: expected a 1-D sequence"),
])
def test_bad_target(target, match, data):
    bg, X = data
    with pytest.raises(InputError, match=match):
        ExactExplainer(_three_outputs, bg, output_names=["a", "b", "c"])(X, target=target)


@pytest.mark.parametrize("name,make", MAKERS)
def test_batch_size_bit_identical(name, make, data, monkeypatch):
    import whylens.shap._explainers as module

    bg, X = data
    ref = make(bg)(X)
    for batch_size in (1, 3, 8, 13, 100, 4096):
        got = make(bg, batch_size=batch_size)(X)
        assert got.values.tobytes() == ref.values.tobytes(), batch_size
        assert got.base_values.tobytes() == ref.base_values.tobytes()
    monkeypatch.setattr(module, "SHARED_CALLS_MAX", 0)  # one game per row
    per_row = [make(bg, batch_size=b)(X).values.tobytes() for b in (1, 7, None)]
    assert per_row[0] == per_row[1] == per_row[2]


def test_batch_size_bit_identical_text():
    docs = ["good film , bad end good a", "a bad a day"]
    ref = KernelExplainer(_words, TextMasker(), nsamples=20, random_state=0)(docs)
    for batch_size in (1, 4, 1000):
        got = KernelExplainer(_words, TextMasker(), nsamples=20, random_state=0,
                              batch_size=batch_size)(docs)
        assert got.values.tobytes() == ref.values.tobytes()


def test_chunk_size_is_a_deprecated_alias(data):
    bg, X = data
    with pytest.warns(DeprecationWarning, match="batch_size"):
        old = ExactExplainer(_three_outputs, bg, chunk_size=9)
    assert old.batch_size == 9 == old.model.chunk_size
    assert old(X) == ExactExplainer(_three_outputs, bg, batch_size=9)(X)
    with pytest.raises(InputError, match="batch_size"):
        ExactExplainer(_three_outputs, bg, batch_size=0)


@pytest.mark.parametrize("shared", [True, False])
def test_callback_reports_and_cancels(shared, data, monkeypatch):
    import whylens.shap._explainers as module

    if not shared:
        monkeypatch.setattr(module, "SHARED_CALLS_MAX", 0)
    bg, X = data
    seen = []
    explainer = KernelExplainer(_three_outputs, bg, nsamples=30, random_state=0, batch_size=16)
    ref = explainer(X)
    got = explainer(X, callback=lambda done, total: seen.append((done, total)))
    assert got == ref
    totals = {t for _, t in seen}
    assert totals == {5 * 28}  # coalitions (nsamples less the empty and full ones) x rows
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and dones[-1] == seen[-1][1] and len(seen) > 3
    calls = []

    def stop(done, total):
        calls.append(done)
        return False if len(calls) == 2 else None

    with pytest.raises(Cancelled, match="returned False"):
        explainer(X, callback=stop)
    assert len(calls) == 2

    def raise_(done, total):
        raise Cancelled("stop")

    with pytest.raises(Cancelled, match="stop"):
        explainer(X, callback=raise_)


def test_callback_text_counts_every_document():
    seen = []
    ExactExplainer(_words, TextMasker(), batch_size=3)(
        ["good a bad", "a good"], callback=lambda d, t: seen.append((d, t)))
    assert {t for _, t in seen} == {2**3 + 2**2}  # every coalition, the ends included
    assert seen[-1] == (12, 12) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(Cancelled):
        ExactExplainer(_words, TextMasker(), batch_size=3)(
            ["good a bad", "a good"], callback=lambda d, t: d < 6)


def test_progress_bar_only_when_asked(data, capsys):
    bg, X = data
    explainer = KernelExplainer(_three_outputs, bg, nsamples=30, random_state=0, batch_size=16)
    explainer(X, progress=True)
    assert "coalitions" in capsys.readouterr().err
    explainer(X, progress=False)
    assert capsys.readouterr().err == ""


# -------------------------------------------------------------------- DataFrames
def _frame(n=80, seed=2):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(20, 70, size=n),
                         "bmi": rng.normal(25, 4, size=n),
                         "smoker": rng.integers(0, 2, size=n).astype(bool),
                         "bp": rng.normal(120, 10, size=n).astype(np.float32)})


def _by_name(frame):
    """A model that looks columns up by name and checks their dtypes."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    assert list(frame.dtypes.astype(str)) == ["int64", "float64", "bool", "float32"]
    return (0.02 * frame["age"] + 0.1 * frame["bmi"] * frame["smoker"]
            - 0.01 * frame["bp"]).to_numpy(dtype=float)


@pytest.mark.parametrize("name,make", [
    ("exact", lambda f, bg: ExactExplainer(f, bg)),
    ("kernel", lambda f, bg: KernelExplainer(f, bg, nsamples=12, random_state=0)),
    ("permutation", lambda f, bg: PermutationExplainer(f, bg, random_state=0)),
])
def test_dataframe_reaches_the_model_as_a_dataframe(name, make):
    df = _frame()
    exp = make(_by_name, df.iloc[:6])(df.iloc[10:13])
    assert exp.feature_names == ["age", "bmi", "smoker", "bp"]
    np.testing.assert_allclose(exp.values.sum(-1)[:, 0] + exp.base_values[:, 0],
                               _by_name(df.iloc[10:13]), rtol=0, atol=1e-9)
    # rows passed with the columns in another order are matched by name
    swapped = make(_by_name, df.iloc[:6])(df.iloc[10:13][["bp", "age", "smoker", "bmi"]])
    np.testing.assert_array_equal(swapped.values, exp.values)


def test_sklearn_fitted_on_a_dataframe_gets_no_feature_name_warning():
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression

    df = _frame()
    y = _by_name(df)
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(df, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exp = KernelExplainer(forest, summarize_background(df, 5), nsamples=12,
                              random_state=0)(df.iloc[:4])
        lin = LinearExplainer(LinearRegression().fit(df, y), df)(df.iloc[:4], target=0)
    assert exp.feature_names == lin.feature_names == ["age", "bmi", "smoker", "bp"]
    np.testing.assert_allclose(exp.values.sum(-1)[:, 0] + exp.base_values[:, 0],
                               forest.predict(df.iloc[:4]), rtol=0, atol=1e-9)


def test_dataframe_missing_column_is_an_error():
    df = _frame()
    with pytest.raises(InputError, match=r"X: expected the background's columns"):
        ExactExplainer(_by_name, df.iloc[:4])(df.iloc[:2, :3])


# ------------------------------------------------------------- representation
def test_tabular_representation_is_a_representation_on_the_runner(data):
    bg, X = data
    masker = TabularMasker(bg, weights=np.arange(1.0, 9.0))
    rep = masker.representation(X[0])
    assert isinstance(rep, Representation) and isinstance(rep, TabularRepresentation)
    assert rep.n_features == 6 and rep.names == [f"x{j}" for j in range(6)]
    np.testing.assert_array_equal(rep.instance, X[:1])
    model = as_model(_three_outputs)
    Z = np.random.default_rng(0).random((11, 6)) < 0.5
    rows = evaluate(model, rep, Z)  # the runner: |B| rows per mask
    assert rows.shape == (11 * 8, 3)
    np.testing.assert_array_equal(rep.mean(rows), rep.evaluate(model, Z))
    w = np.arange(1.0, 9.0) / 36
    want = np.einsum("cbk,b->ck", _three_outputs(
        np.where(Z[:, None], X[0], bg[None]).reshape(-1, 6)).reshape(11, 8, 3), w)
    np.testing.assert_allclose(rep.evaluate(model, Z), want, rtol=0, atol=1e-12)
    same = TabularRepresentation(X[0], bg, np.arange(1.0, 9.0))
    np.testing.assert_array_equal(same.apply(Z), rep.apply(Z))


# --------------------------------------------------------- pickling, threads
@pytest.mark.parametrize("name,make", MAKERS)
def test_pickle_gives_identical_results(name, make, data):
    bg, X = data
    explainer = make(bg, output_names=["a", "b", "c"])
    back = pickle.loads(pickle.dumps(explainer))
    assert back(X, target=[0, 1, 2, 0, 1]) == explainer(X, target=[0, 1, 2, 0, 1])
    text = KernelExplainer(_words, TextMasker(), nsamples=20, random_state=0)
    assert pickle.loads(pickle.dumps(text))(["good a day"]) == text(["good a day"])


def test_kernel_from_four_threads_equals_sequential(data):
    from sklearn.ensemble import RandomForestClassifier

    bg, X = data
    clf = RandomForestClassifier(n_estimators=10, random_state=0).fit(
        np.vstack([bg, X]), np.arange(13) % 3)
    explainer = KernelExplainer(clf, bg, nsamples=30, random_state=5, batch_size=64)
    sequential = [explainer(X[i % 5 :], target=None) for i in range(8)]
    results: list = [None] * 8
    barrier = threading.Barrier(4)

    def work(t):
        barrier.wait()
        for i in range(t, 8, 4):
            results[i] = explainer(X[i % 5 :], target=None)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == s for r, s in zip(results, sequential, strict=True))
