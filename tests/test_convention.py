"""The calling convention: target, batch_size, callback/cancellation, DataFrames."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from whylens import Explanation
from whylens._convention import resolve_labels_argument, resolve_target
from whylens.errors import Cancelled, InputError, InputTypeError
from whylens.explanation import Features
from whylens.lime import LimeTabularExplainer, LimeTextExplainer
from whylens.models import as_model
from whylens.representations import Representation, evaluate

OUT = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])


def test_target_none_is_each_rows_predicted_class():
    assert resolve_target(None, OUT).tolist() == [[1], [0], [2]]


def test_target_int_and_name_for_every_row():
    assert resolve_target(2, OUT).tolist() == [[2], [2], [2]]
    assert resolve_target("b", OUT, output_names=["a", "b", "c"]).tolist() == [[1]] * 3


def test_target_sequence_is_one_per_row_not_every_label():
    assert resolve_target([2, 2, 0], OUT).tolist() == [[2], [2], [0]]
    assert resolve_target(np.array([0, 1, 2]), OUT).tolist() == [[0], [1], [2]]


def test_target_all():
    assert resolve_target("all", OUT).tolist() == [[0, 1, 2]] * 3


@pytest.mark.parametrize("bad, error", [
    ([0, 1], InputError),            # wrong length: not silently every label
    (np.zeros((3, 2), int), InputError),
    (3, InputError),
    ("zebra", InputError),
    (1.5, InputTypeError),
    (True, InputTypeError),
])
def test_target_bad_values_are_refused(bad, error):
    with pytest.raises(error, match="target"):
        resolve_target(bad, OUT, output_names=["a", "b", "c"])


def test_labels_argument_explicit_several():
    assert resolve_labels_argument([0, 2], 3).tolist() == [0, 2]
    with pytest.raises(InputError, match="labels"):
        resolve_labels_argument([], 3)


def test_explanation_per_row_labels_select_and_round_trip():
    values = np.arange(12, dtype=float).reshape(3, 1, 4)
    exp = Explanation(values=values, labels=[[1], [0], [2]], method="x",
                      features=Features(kind="tabular", names=list("abcd")))
    assert exp.labels.shape == (3, 1)
    assert exp[2].labels.tolist() == [2]
    assert exp[[0, 2]].labels.tolist() == [[1], [2]]
    assert Explanation.from_json(exp.to_json()) == exp
    same = Explanation(values=values, labels=[[1], [1], [1]], method="x",
                       features=Features(kind="tabular", names=list("abcd")))
    assert same.labels.tolist() == [1]


class _Tokens:
    """A minimal Representation: features are positions of a 0/1 row."""

    n_features = 4
    names = ("a", "b", "c", "d")
    instance = np.ones(4)

    def apply(self, Z):
        return np.asarray(Z, dtype=float)


def test_runner_chunks_progress_and_cancellation():
    rep = _Tokens()
    assert isinstance(rep, Representation)
    Z = np.random.default_rng(0).integers(0, 2, (50, 4))
    model = as_model(lambda X: X @ np.arange(1.0, 5.0), chunk_size=8)
    seen = []
    Y = evaluate(model, rep, Z, callback=lambda d, t: seen.append((d, t)))
    np.testing.assert_array_equal(Y[:, 0], Z @ np.arange(1.0, 5.0))
    assert seen[-1] == (50, 50) and len(seen) == 7
    calls = []
    with pytest.raises(Cancelled):
        evaluate(model, rep, Z, callback=lambda d, t: calls.append(d) or d < 16)
    assert calls == [8, 16]


def test_lime_tabular_dataframe_reaches_model_as_dataframe():
    pd = pytest.importorskip("pandas")
    data = load_iris(as_frame=True)
    X = data.data
    clf = LogisticRegression(max_iter=500).fit(X, data.target)
    seen = []

    def predict(frame):
        seen.append(frame)
        return clf.predict_proba(frame)

    explainer = LimeTabularExplainer(X, random_state=0)
    assert explainer.feature_names == list(X.columns)
    exp = explainer.explain_instance(X.iloc[0], predict, num_samples=500, target=0)
    assert all(isinstance(f, pd.DataFrame) and list(f.columns) == list(X.columns)
               for f in seen)
    assert exp.labels.tolist() == [0]
    plain = LogisticRegression(max_iter=500).fit(X.to_numpy(), data.target)
    ref = LimeTabularExplainer(X.to_numpy(), random_state=0).explain_instance(
        X.to_numpy()[0], plain.predict_proba, num_samples=500, labels=(0,))
    np.testing.assert_allclose(exp.values, ref.values)


def test_lime_text_target_by_name_and_cancel():
    explainer = LimeTextExplainer(class_names=["neg", "pos"], random_state=0)

    def fn(docs):
        p = np.array([0.9 if "good" in d else 0.2 for d in docs])
        return np.c_[1 - p, p]

    exp = explainer.explain_instance("a good film", fn, target="pos", num_samples=200)
    assert exp.labels.tolist() == [1]
    with pytest.raises(Cancelled):
        explainer.explain_instance("a good film", fn, num_samples=200, batch_size=50,
                                   callback=lambda d, t: False)


def test_runner_refuses_bad_masks_and_empty_rows():
    from whylens.representations import evaluate_rows

    model = as_model(lambda X: X.sum(axis=1))
    with pytest.raises(InputError, match="Z"):
        evaluate(model, _Tokens(), np.zeros(4))
    with pytest.raises(InputError, match="Z"):
        evaluate(model, _Tokens(), np.zeros((0, 4)))
    with pytest.raises(InputError, match="rows"):
        evaluate_rows(model, np.zeros((0, 4)))


def test_callback_and_batch_size_checks():
    from whylens._convention import check_batch_size, checked_callback

    with pytest.raises(InputTypeError, match="callback"):
        checked_callback(3)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(InputError, match="batch_size"):
            check_batch_size(bad)
    assert check_batch_size(np.int64(7)) == 7 and check_batch_size(None) is None
    with pytest.raises(InputError, match="batch_size"):
        LimeTextExplainer().explain_instance("a good film", lambda d: np.ones((len(d), 2)) / 2,
                                             batch_size=0)


def test_dataframe_schema_round_trip_and_refusal():
    pd = pytest.importorskip("pandas")
    from whylens.models._frames import table_values

    frame = pd.DataFrame({"age": np.array([30, 41], dtype=np.int32), "flag": [True, False],
                          "w": np.array([1.5, 2.5], dtype=np.float32)})
    values, schema = table_values(frame, "training_data")
    assert values.dtype == np.float64 and values.tolist() == [[30, 1, 1.5], [41, 0, 2.5]]
    back = schema.to_frame(np.array([[29.6, 0.0, 1.25]]))
    assert list(back.columns) == ["age", "flag", "w"]
    assert back.dtypes.tolist() == [np.dtype(np.int32), np.dtype(bool), np.dtype(np.float32)]
    assert back.iloc[0].tolist() == [30, False, 1.25]
    assert table_values(values, "x") == (values, None)
    with pytest.raises(InputTypeError, match=r"training_data.*'city'"):
        table_values(pd.DataFrame({"age": [1, 2], "city": ["a", "b"]}), "training_data")
    with pytest.raises(InputTypeError, match="training_data"):
        LimeTabularExplainer(pd.DataFrame({"age": [1, 2], "city": ["a", "b"]}))
