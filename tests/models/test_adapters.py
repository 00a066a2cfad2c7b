"""as_model: callables, scikit-learn and torch behind one float64 (n, k) contract."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError, ModelError, ModelOutputError
from whylens.models import Model, as_model


def test_callable_1d_output_becomes_a_column():
    model = as_model(lambda X: X.sum(axis=1))
    out = model(np.arange(6.0).reshape(3, 2))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1.0], [5.0], [9.0]])


def test_chunks_are_bounded_and_results_concatenated():
    seen = []

    def f(X):
        seen.append(len(X))
        return np.column_stack([X[:, 0], -X[:, 0]])

    model = as_model(f, chunk_size=7)
    X = np.arange(30.0).reshape(30, 1)
    out = model(X, progress=False)
    np.testing.assert_array_equal(out[:, 0], np.arange(30.0))
    assert seen == [7, 7, 7, 7, 2]
    assert model.max_chunk_seen == 7 and model.n_evaluated == 30


def test_default_chunk_from_memory_budget():
    model = as_model(lambda X: X[:, 0], memory_budget=8 * 10 * 8 * 100)
    # rows of 10 float64 = 80 bytes, times the working factor 8 -> 100 rows per chunk
    assert model.chunk_size_for(np.zeros((1000, 10))) == 100


def test_callback_reports_progress():
    calls = []
    as_model(lambda X: X[:, 0], chunk_size=4)(np.zeros((10, 1)),
                                              callback=lambda d, t: calls.append((d, t)))
    assert calls == [(4, 10), (8, 10), (10, 10)]


def test_sklearn_classifier_uses_predict_proba_and_class_names(breast_cancer):
    from sklearn.linear_model import LogisticRegression

    X, y, _, _ = breast_cancer
    clf = LogisticRegression(max_iter=5000).fit(X, np.where(y == 1, "benign", "malignant"))
    model = as_model(clf)
    np.testing.assert_allclose(model(X[:5]), clf.predict_proba(X[:5]))
    assert model.output == "probability"
    assert model.output_names == ["benign", "malignant"]
    decision = as_model(clf, output="decision")
    np.testing.assert_allclose(decision(X[:5])[:, 0], clf.decision_function(X[:5]))
    assert decision.output_names == ["malignant"]


def test_sklearn_regressor_and_svm_fallbacks():
    from sklearn.linear_model import Ridge
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ [1.0, 2.0, 3.0]
    reg = Ridge().fit(X, y)
    np.testing.assert_allclose(as_model(reg)(X)[:, 0], reg.predict(X))
    svm = LinearSVC().fit(X, y > 0)
    assert as_model(svm).output == "decision"
    with pytest.raises(InputError, match="predict_proba"):
        as_model(svm, output="probability")


def test_unfitted_estimator_is_refused():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(InputError, match="fit"):
        as_model(LogisticRegression())


@pytest.mark.parametrize(
    ("fn", "error", "match"),
    [
        (lambda X: np.array(["a"] * len(X)), ModelOutputError, "predict_proba"),
        (lambda X: np.full(len(X), np.nan), ModelOutputError, "NaN"),
        (lambda X: np.ones(len(X) + 1), ModelOutputError, "rows"),
        (lambda X: np.ones((len(X), 2, 2)), ModelOutputError, "shape"),
        (lambda X: 3.0, ModelOutputError, "shape"),
    ],
)
def test_bad_model_output(fn, error, match):
    with pytest.raises(error, match=match):
        as_model(fn)(np.zeros((4, 2)))


def test_a_model_that_raises_surfaces_chained():
    def broken(X):
        raise KeyError("column 'age' missing")

    with pytest.raises(ModelError, match="KeyError") as info:
        as_model(broken)(np.zeros((3, 2)))
    assert isinstance(info.value.__cause__, KeyError)


@pytest.mark.parametrize(
    ("obj", "kwargs", "error"),
    [
        (42, {}, InputTypeError),
        (lambda X: X, {"output": "proba"}, InputError),
        (lambda X: X, {"chunk_size": 0}, InputError),
        (lambda X: X, {"memory_budget": -1}, InputError),
    ],
)
def test_bad_arguments(obj, kwargs, error):
    with pytest.raises(error):
        as_model(obj, **kwargs)


def test_model_is_returned_as_is():
    model = as_model(lambda X: X[:, 0])
    assert as_model(model) is model
    assert isinstance(as_model(model, chunk_size=3), Model)


def test_classifier_pipeline_uses_the_last_steps_predict_proba(breast_cancer):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, _, _ = breast_cancer
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        X, np.where(y == 1, "benign", "malignant"))
    model = as_model(pipe)
    assert (model.kind, model.output) == ("sklearn", "probability")
    assert model.output_names == ["benign", "malignant"]
    np.testing.assert_array_equal(model(X[:20]), pipe.predict_proba(X[:20]))
    assert model.name == "Pipeline"


def test_regressor_pipeline_uses_predict_and_svm_pipeline_the_decision():
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)) * [1.0, 10.0, 100.0]
    y = X @ [1.0, 0.1, 0.01] + 5.0
    reg = make_pipeline(StandardScaler(), Ridge(alpha=1e-6)).fit(X, y)
    assert not hasattr(reg, "predict_proba") and not hasattr(reg, "decision_function")
    model = as_model(reg)
    assert model.output == "prediction" and model.output_names is None
    np.testing.assert_array_equal(model(X)[:, 0], reg.predict(X))
    np.testing.assert_allclose(model(X)[:, 0], y, atol=1e-4)  # a linear target, fitted
    with pytest.raises(InputError, match="predict_proba"):
        as_model(reg, output="probability")
    svm = make_pipeline(StandardScaler(), LinearSVC()).fit(X, y > 5.0)
    decision = as_model(svm)
    assert decision.output == "decision" and decision.output_names == ["True"]
    np.testing.assert_array_equal(decision(X)[:, 0], svm.decision_function(X))


def test_text_pipeline_as_the_classifier_fn_equals_its_predict_proba():
    """Seed 000 passes pipeline.predict_proba; the pipeline itself gives the same explanation."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    from whylens.lime import LimeTextExplainer

    docs = ["a great film", "great acting and a great plot", "dull and slow", "a dull plot",
            "great fun", "slow and dull acting"]
    pipe = make_pipeline(TfidfVectorizer(), MultinomialNB(alpha=0.01)).fit(
        docs, [1, 1, 0, 0, 1, 0])
    model = as_model(pipe)
    np.testing.assert_array_equal(model(["great", "dull plot"]),
                                  pipe.predict_proba(["great", "dull plot"]))
    explainer = LimeTextExplainer(random_state=0)
    a = explainer.explain_instance("a great but slow film", pipe, num_samples=300)
    b = explainer.explain_instance("a great but slow film", pipe.predict_proba, num_samples=300)
    assert a.values.tobytes() == b.values.tobytes()
    assert a.output_names == ["0", "1"]


def test_unfitted_pipeline_is_refused():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(InputError, match="unfitted Pipeline"):
        as_model(make_pipeline(StandardScaler(), LogisticRegression()))


# ---------------------------------------------------------------- torch
torch = pytest.importorskip("torch")


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)
        self.drop = torch.nn.Dropout(0.5)
        self.norm = torch.nn.BatchNorm1d(2)

    def forward(self, x):
        return self.norm(self.drop(self.linear(x)))


def test_torch_module_logits_softmax_and_modes_restored():
    torch.manual_seed(0)
    net = _Net()
    net.train()
    net.norm.eval()  # a mixed state must survive exactly
    before = {name: m.training for name, m in net.named_modules()}
    stats = net.norm.running_mean.clone()
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    logits = as_model(net, chunk_size=4)(x)
    with torch.no_grad():
        net.eval()
        expected = net(torch.as_tensor(x)).double().numpy()
        net.train()
        net.norm.eval()
    np.testing.assert_allclose(logits, expected, rtol=1e-6)
    proba = as_model(net, output="probability")(x)
    np.testing.assert_allclose(proba, np.exp(expected) / np.exp(expected).sum(1, keepdims=True),
                               rtol=1e-6)
    assert {name: m.training for name, m in net.named_modules()} == before
    assert torch.equal(net.norm.running_mean, stats)
    assert all(p.requires_grad for p in net.parameters())


def test_torch_module_restored_when_it_raises():
    class Bad(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("shape mismatch")

    net = Bad()
    net.train()
    with pytest.raises(ModelError) as info:
        as_model(net)(np.zeros((2, 3), dtype=np.float32))
    assert isinstance(info.value.__cause__, RuntimeError)
    assert net.training


def test_torch_single_output_probability_is_two_columns():
    net = torch.nn.Linear(2, 1)
    out = as_model(net, output="probability")(np.zeros((3, 2), dtype=np.float32))
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


def test_torch_module_that_ends_in_softmax_or_sigmoid_is_not_squashed_twice():
    torch.manual_seed(0)
    x = np.random.default_rng(1).normal(size=(6, 2)).astype(np.float32)
    soft = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Softmax(dim=1))
    sig = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        p_soft = soft(torch.as_tensor(x)).double().numpy()
        p_sig = sig(torch.as_tensor(x)).double().numpy()
    np.testing.assert_array_equal(as_model(soft, output="probability", returns="probability")(x),
                                  p_soft)
    np.testing.assert_array_equal(as_model(sig, output="probability", returns="probability")(x),
                                  np.hstack([1 - p_sig, p_sig]))
    # the default (logits) squashes again: what returns="probability" is for
    twice = as_model(sig, output="probability")(x)
    assert np.all((twice[:, 1] > 0.5) & (twice[:, 1] < 0.74))
    # LIME's text explainer takes a Model built this way as it is
    from whylens.lime import LimeTextExplainer

    class Words(torch.nn.Module):  # p(positive) = sigmoid(3 * [text has 'good'] - 1)
        def forward(self, ids):
            return torch.sigmoid(3.0 * (ids == 1).any(dim=1, keepdim=True).float() - 1.0)

    def encode(texts):
        return np.array([[1 if w == "good" else 2 for w in (t.split() + ["pad"] * 4)[:4]]
                         for t in texts])

    net = as_model(Words(), output="probability", returns="probability")
    exp = LimeTextExplainer(random_state=0).explain_instance(
        "a good film", lambda texts: net(encode(texts)), num_samples=300)
    assert exp.output[0, 1] == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert exp.as_list(1)[0][0] == "good"


def test_returns_is_checked_and_only_for_torch_modules():
    with pytest.raises(InputError, match="returns: expected 'logits'"):
        as_model(torch.nn.Linear(2, 2), returns="softmax")
    with pytest.raises(InputError, match="returns: expected None unless the model is a torch"):
        as_model(lambda x: x, returns="probability")
    with pytest.raises(InputError, match="returns: expected None unless the model is a torch"):
        as_model(as_model(torch.nn.Linear(2, 2)), returns="probability")  # already wrapped
    bad = torch.nn.Linear(2, 2)
    with pytest.raises(ModelOutputError, match=r"returns='probability'.*values in \[0, 1\]"):
        as_model(bad, returns="probability")(np.full((3, 2), 5.0, dtype=np.float32))


class _Recorder(torch.nn.Module):
    """Records, inside forward, the grad/inference modes, its training flag and the input's
    device and dtype; returns two CPU logits per row (so that it also runs on "meta")."""

    def __init__(self, device: str = "cpu"):
        super().__init__()
        self.linear = torch.nn.Linear(3, 2, device=device)
        self.calls: list[dict] = []

    def forward(self, x):
        self.calls.append({
            "inference": torch.is_inference_mode_enabled(),
            "grad": torch.is_grad_enabled(),
            "training": self.training,
            "device": x.device.type,
            "dtype": x.dtype,
            "rows": x.shape[0],
        })
        total = torch.zeros(x.shape[0]) if x.is_meta else x.sum(dim=1).to("cpu")
        return torch.stack([total, -total], dim=1)


def test_torch_module_runs_in_inference_mode_and_eval():
    net = _Recorder()
    net.train()
    x = np.arange(30.0).reshape(10, 3)
    out = as_model(net, chunk_size=4)(x)
    np.testing.assert_array_equal(out[:, 0], x.sum(axis=1))
    assert [c["rows"] for c in net.calls] == [4, 4, 2]
    assert all(c["inference"] and not c["grad"] and not c["training"] for c in net.calls)
    assert {c["dtype"] for c in net.calls} == {torch.float32}  # the parameters' dtype
    assert net.training and not torch.is_inference_mode_enabled()  # all restored


DEVICES = ["meta", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))]


@pytest.mark.parametrize("device", DEVICES)
def test_torch_module_is_fed_on_its_own_device(device):
    """Inputs are moved to the device of the module's parameters ("meta" stands in for an
    accelerator on a CPU-only machine: no data, but a device of its own)."""
    net = _Recorder(device)
    out = as_model(net)(np.ones((5, 3), dtype=np.float64))
    assert [(c["device"], c["inference"]) for c in net.calls] == [(device, True)]
    if device != "meta":
        np.testing.assert_array_equal(out[:, 0], np.full(5, 3.0))
    net.calls.clear()
    as_model(net)(torch.ones(2, 3))  # a CPU tensor is moved too
    assert net.calls[0]["device"] == device


def test_torch_model_pickles_and_threads_equal_the_sequential_call():
    """A wrapped module pickles (its prediction function is an object, not a closure),
    and four threads on one module in training mode give the sequential answer: each
    forward runs in eval mode under the module's lock, and the flags end as they began."""
    import pickle
    import threading

    from whylens.models._torch import TorchPredictFn, torch_module_of

    torch.manual_seed(0)
    net = _Net()
    net.train()
    model = as_model(net, output="probability", chunk_size=3)
    assert isinstance(model.fn, TorchPredictFn) and torch_module_of(model) is net
    assert torch_module_of(as_model(lambda x: x)) is None
    x = np.random.default_rng(1).normal(size=(40, 3)).astype(np.float32)
    expected = model(x)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again(x), expected)
    results = [None] * 4

    def run(i):
        for _ in range(5):
            results[i] = model(x)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for out in results:
        np.testing.assert_array_equal(out, expected)
    assert all(m.training for m in net.modules())
