"""Exact, Kernel and Permutation SHAP: known answers, axioms, agreement with shap."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from whylens import Explanation
from whylens.errors import InputError, InputTypeError, ModelOutputError
from whylens.shap import (
    ExactExplainer,
    KernelExplainer,
    PermutationExplainer,
    TabularMasker,
)


def _interaction_model(X):
    """Two outputs with interactions: f0 = x0*x1 + sin(x2) + x3^2, f1 = x4*x0 - x5."""
    X = np.asarray(X, dtype=float)
    return np.column_stack([X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + X[:, 3] ** 2,
                            X[:, 4] * X[:, 0] - X[:, 5]])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(12, 6)), rng.normal(size=(5, 6))


ALL = [
    ("exact", lambda f, bg, **kw: ExactExplainer(f, bg, **kw)),
    ("kernel-full", lambda f, bg, **kw: KernelExplainer(f, bg, nsamples=2 ** bg.shape[1], **kw)),
    ("kernel-partial", lambda f, bg, **kw: KernelExplainer(f, bg, nsamples=2 * bg.shape[1] + 6,
                                                           random_state=0, **kw)),
    ("permutation", lambda f, bg, **kw: PermutationExplainer(f, bg, max_evals=60,
                                                             random_state=0, **kw)),
    ("permutation-balanced", lambda f, bg, **kw: PermutationExplainer(
        f, bg, max_evals=60, sampling="balanced", random_state=0, **kw)),
]


@pytest.mark.parametrize("name,make", ALL)
def test_linear_model_closed_form(name, make, data):
    """f(x) = w.x + b: every explainer gives w_j (x_j - E[x_j]) exactly."""
    bg, X = data
    w = np.array([1.5, -2.0, 0.0, 0.5, 3.0, -1.0])
    exp = make(lambda A: A @ w + 0.7, bg)(X)
    expected = w * (X - bg.mean(axis=0))
    np.testing.assert_allclose(exp.values[:, 0], expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(exp.base_values[:, 0], bg.mean(0) @ w + 0.7, atol=1e-12)
    assert exp.values.shape == (5, 1, 6)


@pytest.mark.parametrize("name,make", ALL)
def test_efficiency_on_every_row(name, make, data):
    bg, X = data
    exp = make(_interaction_model, bg)(X)
    assert exp.values.shape == (5, 2, 6)
    np.testing.assert_allclose(exp.values.sum(-1) + exp.base_values, _interaction_model(X),
                               rtol=0, atol=1e-10)
    assert exp.params["efficiency_max_abs_error"] < 1e-10


@pytest.mark.parametrize("name,make", ALL)
def test_hand_computed_three_feature_game(name, make):
    """f = x1*x2 + x3, background (1, 1, 0), x = (3, 2, 5): phi = (3, 2, 5) by hand."""
    f = lambda A: A[:, 0] * A[:, 1] + A[:, 2]  # noqa: E731
    bg = np.array([[1.0, 1.0, 0.0]])
    exp = make(f, bg)(np.array([[3.0, 2.0, 5.0]]))
    np.testing.assert_allclose(exp.values[0, 0], [3.0, 2.0, 5.0], atol=1e-10)
    assert exp.base_values[0, 0] == 1.0 and exp.output[0, 0] == 11.0


@pytest.mark.parametrize("name,make", [a for a in ALL if a[0] != "kernel-partial"])
def test_tied_features_equal_and_dummy_zero(name, make):
    """f = x0*x1 (symmetric, x0 = x1) + 0*x2: equal values for the pair, exactly 0 for x2."""
    f = lambda A: A[:, 0] * A[:, 1]  # noqa: E731
    bg = np.array([[0.0, 0.0, -4.0], [1.0, 1.0, 3.0]])
    exp = make(f, bg)(np.array([[2.0, 2.0, 9.0]]))
    v = exp.values[0, 0]
    assert abs(v[0] - v[1]) < 1e-12
    assert abs(v[2]) < 1e-12
    np.testing.assert_allclose(v[:2], [(4.0 - 0.5) / 2] * 2, atol=1e-12)


def test_kernel_error_shrinks_with_budget():
    """Kernel at partial budget: mean relative error over rows and seeds falls as nsamples grows."""
    rng = np.random.default_rng(1)
    d = 10
    bg = rng.normal(size=(4, d))
    X = rng.normal(size=(4, d))
    W = rng.normal(size=(d, d))

    def f(A):
        return np.tanh(A @ W).sum(axis=1) + A[:, 0] * A[:, 1] * A[:, 2]

    truth = ExactExplainer(f, bg)(X).values
    errors = []
    for n in (60, 200, 800):
        err = [np.linalg.norm(KernelExplainer(f, bg, nsamples=n, random_state=s)(X).values - truth)
               / np.linalg.norm(truth) for s in range(3)]
        errors.append(np.mean(err))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05
    perm = [np.linalg.norm(PermutationExplainer(f, bg, max_evals=n, random_state=0)(X).values
                           - truth) / np.linalg.norm(truth) for n in (38, 380)]
    assert perm[1] < perm[0]


def test_kernel_near_full_budget_is_accurate_and_full_budget_exact():
    rng = np.random.default_rng(2)
    bg, X = rng.normal(size=(3, 8)), rng.normal(size=(2, 8))
    truth = ExactExplainer(_interaction8, bg)(X).values
    full = KernelExplainer(_interaction8, bg, nsamples=256)(X)
    np.testing.assert_allclose(full.values, truth, atol=1e-10)
    assert full.n_evals == 2 * 256
    over = KernelExplainer(_interaction8, bg, nsamples=10_000)(X)  # capped at 2^d
    assert over.n_evals == 2 * 256
    np.testing.assert_allclose(over.values, truth, atol=1e-10)


def _interaction8(A):
    return A[:, 0] * A[:, 7] + np.exp(A[:, 1] * 0.3) * A[:, 2] + A[:, 3:7].sum(1) ** 2


def test_agreement_with_shap_exact_and_kernel():
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(3)
    bg, X = rng.normal(size=(15, 7)), rng.normal(size=(3, 7))
    f = lambda A: _interaction_model(np.column_stack([A, A[:, :1] * 0]))[:, 0] + A[:, 6]  # noqa
    ours = ExactExplainer(f, bg)(X)
    theirs = shap.ExactExplainer(f, shap.maskers.Independent(bg, max_samples=100))(X)
    np.testing.assert_allclose(ours.shap_values, theirs.values, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.base_values[:, 0], theirs.base_values, atol=1e-8)
    kern = KernelExplainer(f, bg, nsamples=2**7)(X)
    theirs_k = shap.KernelExplainer(f, bg).shap_values(X, nsamples=2**7, silent=True)
    np.testing.assert_allclose(kern.shap_values, theirs_k, rtol=0, atol=1e-8)


def test_agreement_with_shap_multi_output_classifier():
    shap = pytest.importorskip("shap")
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    bg = X[::15]
    ours = KernelExplainer(clf, bg, nsamples=16).shap_values(X[:4])
    theirs = shap.KernelExplainer(clf.predict_proba, bg).shap_values(X[:4], nsamples=16,
                                                                      silent=True)
    assert ours.shape == (4, 4, 3) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)


@pytest.mark.parametrize("cls,kw", [(KernelExplainer, {"nsamples": 40}),
                                    (PermutationExplainer, {"max_evals": 50})])
def test_determinism_by_seed(cls, kw, data):
    bg, X = data
    a = cls(_interaction_model, bg, random_state=7, **kw)(X)
    b = cls(_interaction_model, bg, random_state=7, **kw)(X)
    c = cls(_interaction_model, bg, random_state=8, **kw)(X)
    assert a == b
    assert a.values.tobytes() == b.values.tobytes()
    assert not np.array_equal(a.values, c.values)
    # Every row gets the same design: row i's values depend neither on the rows
    # explained with it nor on its position in the batch.
    one = cls(_interaction_model, bg, random_state=7, **kw)(X[2:3])
    np.testing.assert_allclose(one.values[0], a.values[2], rtol=0, atol=1e-12)
    moved = cls(_interaction_model, bg, random_state=7, **kw)(X[::-1])
    np.testing.assert_allclose(moved.values[::-1], a.values, rtol=0, atol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 7, 1 << 14])
def test_evaluate_packs_rows_and_coalitions_in_calls(batch_size, data):
    """Whatever the batch size, v(row, coalition) is the weighted mean over the background."""
    from whylens.models import as_model

    bg, X = data
    masker, sizes = TabularMasker(bg, weights=np.arange(1, 13)), []

    def f(A):
        sizes.append(len(A))
        return _interaction_model(A)

    model = as_model(f, chunk_size=batch_size)
    Z = np.random.default_rng(3).random((9, 6)) < 0.5
    v, head_out = masker.evaluate(model, X, Z)
    assert v.shape == (5, 9, 2) and head_out is None and max(sizes) <= batch_size
    w = np.arange(1, 13) / 78
    for i in range(5):
        inputs = np.where(Z[:, None, :], X[i], bg[None])  # (9, 12, 6)
        want = np.einsum("cbk,b->ck", _interaction_model(inputs.reshape(-1, 6)).reshape(9, 12, 2),
                         w)
        np.testing.assert_allclose(v[i], want, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(masker.representation(X[i]).evaluate(model, Z), v[i])


def test_evaluate_inputs_are_exact_bits(monkeypatch):
    """Every input is bit for bit x_j or b_j: signed zeros, subnormals, huge values."""
    import whylens.representations.masking as module
    from whylens.models import as_model

    x = np.array([[-0.0, 5e-324, -1.7e308, 0.1, 3.0],
                  [0.0, -5e-324, 1.7e308, -0.1, -3.0],
                  [1.0, 2.0, 3.0, 4.0, 5.0]])
    bg = np.array([[0.0, -5e-324, 1.7e308, -0.1, np.nextafter(3.0, 4.0)],
                   [1.0, 2.0, -0.0, 4.0, 5.0]])
    Z = np.random.default_rng(1).random((37, 5)) < 0.5
    seen = []

    def f(A):
        seen.append(A.copy())
        return A[:, :1]

    keep = np.repeat(Z, 2, axis=0)
    want = [np.where(keep, xi.view(np.uint64), np.tile(bg, (37, 1)).view(np.uint64))
            for xi in x]
    # One pair per call, the tail of _fill_bits, several rows in one _fill_rows broadcast,
    # and masks built per block of coalitions.
    for batch_size, mask_bytes in ((1, 1 << 22), (5, 1 << 22), (64, 16 * 2 * 5 * 7),
                                   (1000, 1 << 22), (1000, 16 * 2 * 5 * 8)):
        monkeypatch.setattr(module, "MASK_BYTES", mask_bytes)
        seen.clear()
        v, _ = TabularMasker(bg).evaluate(as_model(f, chunk_size=batch_size), x, Z)
        got = np.concatenate(seen).view(np.uint64)
        block = min(37, mask_bytes // (16 * 2 * 5))
        order = np.concatenate([w[2 * c0 : 2 * min(37, c0 + block)]  # block-major pairs
                                for c0 in range(0, 37, block) for w in want])
        assert np.array_equal(got, order)
        np.testing.assert_allclose(v[:, :, 0], np.where(Z[None, :, 0], x[:, None, 0], 0.5),
                                   rtol=1e-15, atol=1e-300)
        rep = TabularMasker(bg).representation(x[1])
        assert np.array_equal(rep.apply(Z).view(np.uint64), want[1])


def test_outputs_base_and_design_share_the_first_call(data):
    """The explained rows and the background go in front of the design's first call."""
    bg, X = data
    calls = []

    def f(A):
        calls.append(A.copy())
        return _interaction_model(A)

    exp = KernelExplainer(f, bg, nsamples=40, random_state=0)(X)
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0][:5], X)
    np.testing.assert_array_equal(calls[0][5:17], bg)
    assert calls[0].shape[0] == exp.params["model_rows"] == 5 + 12 + 5 * 38 * 12
    np.testing.assert_allclose(exp.output, _interaction_model(X), rtol=0, atol=0)
    np.testing.assert_allclose(exp.base_values[0], _interaction_model(bg).mean(0),
                               rtol=0, atol=1e-15)


@pytest.mark.parametrize("chunk", [15, 16, 29, 40, 64, 500])
def test_first_call_with_head_never_exceeds_chunk(chunk, data):
    """Head (rows + background) and design rows in calls of at most chunk_size rows."""
    bg, X = data
    sizes = []

    def f(A):
        sizes.append(A.shape[0])
        return _interaction_model(A)

    ref = KernelExplainer(_interaction_model, bg, nsamples=40, random_state=0)(X)
    exp = KernelExplainer(f, bg, nsamples=40, random_state=0, batch_size=chunk)(X)
    assert max(sizes) <= chunk
    assert sum(sizes) == exp.params["model_rows"] == ref.params["model_rows"]
    np.testing.assert_allclose(exp.values, ref.values, rtol=0, atol=1e-12)


def test_large_designs_build_masks_per_block(data, monkeypatch):
    """Masks built for blocks of coalitions (any block and batch size): same values."""
    import whylens.representations.masking as module

    bg, X = data
    ref = ExactExplainer(_interaction_model, bg)(X)
    for mask_bytes, batch_size in ((1, 100), (16 * 12 * 6 * 5, 100), (16 * 12 * 6 * 7, 29)):
        monkeypatch.setattr(module, "MASK_BYTES", mask_bytes)
        got = ExactExplainer(_interaction_model, bg, batch_size=batch_size)(X)
        np.testing.assert_array_equal(got.values, ref.values)
        assert got.params["model_rows"] == ref.params["model_rows"]


def test_output_width_changing_between_calls_is_an_error(data):
    bg, X = data
    n_calls = [0]

    def f(A):
        n_calls[0] += 1
        out = _interaction_model(A)
        return out if n_calls[0] == 1 else out[:, :1]

    with pytest.raises(ModelOutputError, match="2 outputs on every chunk"):
        ExactExplainer(f, bg, batch_size=200)(X)


@pytest.mark.parametrize("name,make", ALL)
def test_model_never_sees_more_than_chunk(name, make, data):
    bg, X = data
    sizes = []

    def f(A):
        sizes.append(A.shape[0])
        return _interaction_model(A)

    exp = make(f, bg, batch_size=7)(X)
    assert max(sizes) <= 7
    assert sum(sizes) == exp.params["model_rows"] + 0 * len(sizes)


def test_n_evals_and_model_rows():
    rng = np.random.default_rng(4)
    bg, X = rng.normal(size=(3, 5)), rng.normal(size=(2, 5))
    exp = ExactExplainer(_interaction_model_5, bg)(X)
    assert exp.n_evals == 2 * 2**5
    # rows = (coalitions except empty/full) * background + background (base) + X (outputs)
    assert exp.params["model_rows"] == 2 * 30 * 3 + 3 + 2


def _interaction_model_5(A):
    return A[:, 0] * A[:, 1] + A[:, 2:].sum(1)


def test_shap_values_layout_and_single_row(data):
    bg, X = data
    single = KernelExplainer(lambda A: A.sum(1), bg, nsamples=64)
    assert single.shap_values(X).shape == (5, 6)
    assert single.shap_values(X[0]).shape == (6,)
    multi = ExactExplainer(_interaction_model, bg)
    assert multi.shap_values(X).shape == (5, 6, 2)
    assert multi.shap_values(X[0]).shape == (6, 2)
    assert np.shape(multi.expected_value) == (2,)
    assert isinstance(single.expected_value, float)


def test_explanation_fields_and_json_round_trip(data):
    bg, X = data
    exp = KernelExplainer(_interaction_model, bg, nsamples=40, random_state=0,
                          feature_names=list("abcdef"))(X)
    assert exp.feature_names == list("abcdef")
    np.testing.assert_array_equal(exp.data, X)
    assert exp.method == "shap.kernel" and exp.params["nsamples"] == 40
    back = Explanation.from_json(exp.to_json())
    assert back == exp


def test_sklearn_estimator_and_dataframe_names():
    pd = pytest.importorskip("pandas")
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(60, 4)), columns=["age", "bmi", "bp", "s1"])
    y = (X["age"] + X["bmi"] > 0).astype(int)
    clf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        exp = ExactExplainer(clf, X.iloc[:10])(X.iloc[:3])
    assert exp.feature_names == ["age", "bmi", "bp", "s1"]
    assert exp.values.shape == (3, 2, 4) and exp.output_names == ["0", "1"]
    np.testing.assert_allclose(exp.values.sum(-1) + exp.base_values,
                               clf.predict_proba(X.iloc[:3]), atol=1e-10)


# ------------------------------------------------------------------ bad inputs
def _f3(A):
    return A.sum(axis=1)


BAD = [
    (lambda: ExactExplainer(_f3, np.zeros((4, 3)))(np.zeros((2, 4))), InputError,
     r"X: expected rows of 3 features"),
    (lambda: ExactExplainer(_f3, np.array([[0.0, np.nan, 1.0]])), InputError,
     r"background: expected finite values, got NaN or infinity in column\(s\) \[1\]"),
    (lambda: ExactExplainer(_f3, np.zeros((2, 21))), InputError,
     r"at most 20 features for ExactExplainer.*got 21 features.*KernelExplainer"),
    (lambda: ExactExplainer(lambda A: np.zeros((len(A) + 1,)), np.zeros((2, 3)))(
        np.zeros((1, 3))), ModelOutputError, r"rows \(one per input\)"),
    (lambda: ExactExplainer(lambda A: np.zeros((len(A), 2, 2)), np.zeros((2, 3)))(
        np.zeros((1, 3))), ModelOutputError, r"shape \(n,\) or \(n, n_outputs\)"),
    (lambda: KernelExplainer(_f3, np.zeros((2, 10)), nsamples=21), InputError,
     r"nsamples: expected 'auto' or an int >= 22 .*Pass nsamples=22"),
    (lambda: KernelExplainer(_f3, np.zeros((2, 10)), nsamples="many"), InputTypeError,
     r"nsamples: expected 'auto' or an int"),
    (lambda: KernelExplainer(_f3, np.zeros((2, 10)), l1_reg="aic"), InputError,
     r"l1_reg: expected False"),
    (lambda: PermutationExplainer(_f3, np.zeros((2, 10)), max_evals=10), InputError,
     r"max_evals: expected 'auto' or an int >= 20"),
    (lambda: PermutationExplainer(_f3, np.zeros((2, 3)), sampling="sobol"), InputError,
     r"sampling: expected 'antithetic' or 'balanced'"),
    (lambda: ExactExplainer(_f3, np.zeros((2, 3)), feature_names=["a", "b"]), InputError,
     r"feature_names: expected 3 names \(one each\), got 2 names"),
    (lambda: ExactExplainer(_f3, None), InputError, r"masker: expected a background"),
    (lambda: ExactExplainer(_f3, np.zeros((2, 3)))(np.array([[1.0, np.inf, 0.0]])), InputError,
     r"X: expected finite values"),
    (lambda: ExactExplainer(_f3, [["a", "b"]]), InputTypeError, r"background: expected a num"),
    (lambda: TabularMasker(np.zeros((3, 2)), weights=[1, -1, 1]), InputError, r"weights:"),
    (lambda: KernelExplainer(_f3, np.zeros((2, 3)), random_state="x"), InputTypeError,
     r"random_state"),
]


@pytest.mark.parametrize("call,exc,match", BAD)
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("name,make", ALL)
def test_shared_model_calls_equal_per_row_games(name, make, data, monkeypatch):
    """Rows sharing model calls give bit-identical values to one game per row."""
    import whylens.shap._explainers as module

    bg, X = data
    shared = make(_interaction_model, bg)(X)
    monkeypatch.setattr(module, "SHARED_CALLS_MAX", 0)
    per_row = make(_interaction_model, bg)(X)
    np.testing.assert_allclose(shared.values, per_row.values, rtol=0, atol=1e-12)
    assert shared.n_evals == per_row.n_evals


@pytest.mark.parametrize("d", [3, 6, 11, 30])
@pytest.mark.parametrize("size_weights", ["leverage", "kernel", "sqrt"])
def test_kernel_allocation_enumerates_ends_first_and_spends_the_budget(d, size_weights):
    import math

    from whylens.shap._solvers import kernel_allocation, sample_kernel_coalitions

    caps = {s: math.comb(d, s) // 2 if 2 * s == d else math.comb(d, s)
            for s in range(1, d // 2 + 1)}
    total = sum(caps.values())
    for n_pairs in sorted(n for n in {d, d + 3, 4 * d, total - 1, total} if d <= n <= total):
        alloc = kernel_allocation(d, n_pairs, size_weights)
        assert sum(alloc.values()) == n_pairs
        assert all(0 <= alloc[s] <= caps[s] for s in caps)
        assert alloc[1] == caps[1]  # every single feature and its complement
        sizes = sorted(caps)
        full = [alloc[s] == caps[s] for s in sizes]
        assert full == sorted(full, reverse=True) or size_weights != "kernel"
    Z, w = sample_kernel_coalitions(d, 2 * d + 2 + 10, np.random.default_rng(0), size_weights)
    assert len({z.tobytes() for z in Z}) == Z.shape[0]  # without replacement
    sizes = Z.sum(1)
    for s in np.unique(sizes):  # weight = kernel mass of the size / number drawn of it
        assert np.allclose(w[sizes == s], (d - 1) / (s * (d - s)) / (sizes == s).sum())


def test_l1_reg_only_when_asked_keeps_k_features_and_efficiency(data):
    bg, X = data
    w = np.array([3.0, -2.0, 0.05, 0.0, 1.0, 0.01])
    f = lambda A: A @ w + 0.1 * A[:, 0] * A[:, 1]  # noqa: E731
    dense = KernelExplainer(f, bg, nsamples=40, random_state=0)(X)
    assert (np.abs(dense.values) > 0).sum(-1).min() >= 5  # nothing zeroed by default
    sparse = KernelExplainer(f, bg, nsamples=40, l1_reg=3, random_state=0)(X)
    assert (sparse.values != 0).sum(-1).max() <= 3
    np.testing.assert_allclose(sparse.values.sum(-1) + sparse.base_values, sparse.output,
                               atol=1e-10)
    big = np.argsort(-np.abs(w))[:3]
    assert set(np.flatnonzero(sparse.values[0, 0])) == set(big.tolist())


def test_efficiency_violation_is_reported(data, monkeypatch):
    from whylens.shap import EfficiencyWarning

    bg, X = data
    explainer = ExactExplainer(_interaction_model, bg)
    monkeypatch.setattr(explainer, "_finish",
                        lambda Z, s, v, v0, v1: np.ones((6, v.shape[1])))
    with pytest.warns(EfficiencyWarning, match="miss efficiency by"):
        exp = explainer(X)
    assert exp.params["efficiency_max_abs_error"] > 0.1


def test_exact_finish_cached_and_uncached_agree():
    """The cached design (read-only) and any other array of the same coalitions agree."""
    from whylens.shap._solvers import exact_finish, exact_masks

    Z = exact_masks(5)
    assert not Z.flags.writeable and exact_masks(5) is Z
    v = np.random.default_rng(2).normal(size=(Z.shape[0], 3))
    v_empty, v_full = np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 2.0])
    cached = exact_finish(Z, v, v_empty, v_full)
    copied = exact_finish(np.array(Z), v, v_empty, v_full)
    np.testing.assert_allclose(cached, copied, rtol=0, atol=1e-14)
    np.testing.assert_allclose(cached.sum(0), v_full - v_empty, rtol=0, atol=1e-14)
