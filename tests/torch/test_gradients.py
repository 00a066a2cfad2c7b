"""Gradient attributions: closed forms, axioms, side effects (captum: test_gradients_captum.py)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from whylens.errors import InputError, InputTypeError, ModelError  # noqa: E402
from whylens.torch import (  # noqa: E402
    GRADIENT_METHODS,
    Deconvolution,
    DeepLift,
    DeepShap,
    GradCAM,
    GradientShap,
    GuidedBackprop,
    InputXGradient,
    IntegratedGradients,
    LayerDeepLift,
    LayerDeepShap,
    LayerGradientShap,
    LayerIntegratedGradients,
    NoiseTunnel,
    Saliency,
    SmoothGrad,
    attribution,
    path_weights,
)

from .models import (  # noqa: E402
    FunctionalPool,
    GapNet,
    LinearNet,
    PoolCNN,
    Raises,
    ReluMLP,
    ReusedRelu,
    SmallCNN,
    SmoothMLP,
    SoftmaxMLP,
    TextCNN,
    seeded,
)
from .test_hooks import assert_untouched, odd_model, snapshot  # noqa: E402

GEN = torch.Generator().manual_seed(3)
X4 = torch.randn(3, 4, dtype=torch.float64, generator=GEN)
W = torch.tensor([[1.0, -2.0, 3.0, 0.5], [-1.0, 0.0, 2.0, 4.0]], dtype=torch.float64)


# ---------------------------------------------------------------- closed forms
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left", "riemann_right",
                                    "riemann_middle", "riemann_trapezoid"])
def test_ig_of_linear_model_is_difference_times_weight(method):
    model = LinearNet()
    base = torch.tensor([0.5, -1.0, 0.0, 2.0], dtype=torch.float64)
    exp = IntegratedGradients(model, n_steps=3, method=method)(X4, labels=[0, 1],
                                                               baselines=base)
    expected = (X4 - base)[:, None, :] * W[None]
    np.testing.assert_allclose(exp.values, expected.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-12)
    np.testing.assert_allclose(exp.base_values, model(base[None]).detach().numpy()
                               .repeat(3, axis=0), atol=1e-13)


def test_saliency_of_linear_model_is_its_weight():
    model = LinearNet()
    signed = Saliency(model, abs=False)(X4, labels=[0, 1])
    np.testing.assert_array_equal(signed.values, np.broadcast_to(W.numpy(), (3, 2, 4)))
    absolute = Saliency(model)(X4, target=1)
    np.testing.assert_array_equal(absolute.values[:, 0], np.abs(W[1].numpy())[None].repeat(3, 0))


def test_input_x_gradient_of_unbiased_linear_model_sums_to_output():
    model = LinearNet(bias=False)
    exp = InputXGradient(model)(X4, labels=[0, 1])
    np.testing.assert_allclose(exp.values.sum(axis=2), model(X4).detach().numpy(), atol=1e-13)


@pytest.mark.parametrize("method", [Saliency, InputXGradient])
def test_gradient_at_x_needs_one_forward_and_equals_the_chunked_path(method):
    """Saliency and Input x Gradient keep the graph of the forward that gives the outputs
    (one forward + one backward per label when x fits a chunk), with the values of
    the chunked path (a no-grad forward for the target, then chunks with gradients)."""
    model = seeded(SmallCNN())
    calls = []
    handle = model.register_forward_hook(lambda m, i, o: calls.append(int(i[0].shape[0])))
    x = torch.rand(3, 2, 6, 6, generator=torch.Generator().manual_seed(3))
    try:
        fused = method(model)
        fused(x, target=1)  # the first call also probes the chunk size
        calls.clear()
        one = fused(x, target=1)
        assert calls == [3]
        assert one.params["n_backward"] == 1 and one.n_evals == 3
        calls.clear()
        chunked = method(model, batch_size=2)(x, target=1)
        assert calls == [2, 1, 2, 1]  # outputs, then gradients, in chunks of 2
    finally:
        handle.remove()
    # equal up to the rounding of a batch of 3 against batches of 2 and 1 (float64)
    np.testing.assert_allclose(one.values, chunked.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(one.output, chunked.output, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(one.labels, chunked.labels)
    top = method(model)(x, target=None)  # each row's top class: one backward for all rows
    assert top.labels.shape == (3, 1) and len(set(top.labels[:, 0].tolist())) > 1
    assert top.params["n_backward"] == 1
    np.testing.assert_allclose(top.values, method(model, batch_size=1)(x).values,
                               rtol=0, atol=1e-12)


def test_gradient_shap_of_linear_model_is_difference_times_weight():
    model = LinearNet()
    background = torch.randn(5, 4, dtype=torch.float64, generator=GEN)
    exp = GradientShap(model, n_samples=400, random_state=0)(X4, target=0,
                                                             baselines=background)
    # each sample gives (x - b_j) * w exactly; the mean over drawn b_j -> x - mean(b)
    drawn_mean = exp.values[:, 0] / W[0].numpy()
    assert np.abs(drawn_mean - (X4 - background.mean(0)).numpy()).max() < 0.25
    # one background row: exact
    one = GradientShap(model, n_samples=3, random_state=1)(X4, target=0,
                                                           baselines=background[:1])
    np.testing.assert_allclose(one.values[:, 0], ((X4 - background[0]) * W[0]).numpy(),
                               atol=1e-13)
    np.testing.assert_allclose(one.delta, 0.0, atol=1e-12)


def test_path_weights_integrate_polynomials():
    for method in ["gausslegendre", "riemann_trapezoid", "riemann_middle"]:
        a, w = path_weights(16, method)
        assert w.sum() == pytest.approx(1.0, abs=1e-14)
        assert ((a >= 0) & (a <= 1)).all()
    a, w = path_weights(4, "gausslegendre")
    # exact up to degree 7
    assert (w * a**7).sum() == pytest.approx(1 / 8, abs=1e-15)


# ---------------------------------------------------------------- axioms
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid", "riemann_middle"])
def test_ig_completeness_and_delta_falls_with_steps(method):
    model = seeded(SmoothMLP(), 2)
    x = torch.randn(4, 4, dtype=torch.float64, generator=GEN) * 2
    deltas = []
    for steps in (2, 8, 32):
        exp = IntegratedGradients(model, n_steps=steps, method=method)(x, labels=[0, 1])
        gap = model(x).detach().numpy() - model(torch.zeros(1, 4, dtype=torch.float64)
                                                ).detach().numpy()
        np.testing.assert_allclose(exp.delta, exp.values.sum(axis=2) - gap, atol=1e-12)
        deltas.append(np.abs(exp.delta).max())
    assert deltas[0] > deltas[1] > deltas[2]
    assert deltas[2] < 1e-3


def test_smoothgrad_with_zero_noise_is_saliency():
    model = seeded(GapNet(in_ch=2), 1)
    x = torch.randn(2, 2, 6, 6, dtype=torch.float64, generator=GEN)
    for absolute in (False, True):
        sal = Saliency(model, abs=absolute)(x, labels=[0, 3])
        sg = SmoothGrad(model, nt_samples=4, stdevs=0.0, abs=absolute,
                        random_state=0)(x, labels=[0, 3])
        np.testing.assert_allclose(sg.values, sal.values, rtol=0, atol=1e-14)


def test_noise_tunnel_types_and_determinism():
    model = seeded(SmoothMLP(), 4)
    make = lambda kind, seed: NoiseTunnel(Saliency(model, abs=False), nt_type=kind,  # noqa: E731
                                          nt_samples=6, stdevs=0.3, random_state=seed)
    mean = make("smoothgrad", 0)(X4, target=1).values
    sq = make("smoothgrad_sq", 0)(X4, target=1).values
    var = make("vargrad", 0)(X4, target=1).values
    np.testing.assert_allclose(var, sq - mean**2, atol=1e-12)  # same noise for the same seed
    assert make("smoothgrad", 0)(X4, target=1) == make("smoothgrad", 0)(X4, target=1)
    assert not np.array_equal(make("smoothgrad", 1)(X4, target=1).values, mean)


@pytest.mark.parametrize("model_fn", [lambda: seeded(ReluMLP(), 5), lambda: seeded(ReusedRelu(), 6),
                                      lambda: seeded(SmallCNN(size=5), 7)])
def test_deeplift_summation_to_delta(model_fn):
    model = model_fn()
    shape = (3, 2, 5, 5) if isinstance(model, SmallCNN) else (
        (3, 5) if isinstance(model, ReluMLP) else (3, 4))
    x = torch.randn(*shape, dtype=torch.float64, generator=GEN)
    ref = torch.randn(*shape, dtype=torch.float64, generator=GEN) * 0.5
    exp = DeepLift(model)(x, labels=[0, 1], baselines=ref)
    gap = (model(x) - model(ref)).detach().numpy()[:, :2]
    np.testing.assert_allclose(exp.values.reshape(3, 2, -1).sum(axis=2), gap, atol=1e-6)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-6)


def test_deeplift_differs_from_gradient_times_delta_where_relus_switch():
    """The rescale rule is really applied: on a ReLU net, DeepLIFT != (x - x') * grad(x)."""
    model = seeded(ReluMLP(), 5)
    x = torch.randn(3, 5, dtype=torch.float64, generator=GEN)
    dl = DeepLift(model)(x, target=0).values
    ixg = InputXGradient(model)(x, target=0).values
    assert np.abs(dl - ixg).max() > 1e-3


def test_deepshap_with_one_background_row_is_deeplift():
    model = seeded(ReluMLP(), 8)
    x = torch.randn(4, 5, dtype=torch.float64, generator=GEN)
    row = torch.randn(1, 5, dtype=torch.float64, generator=GEN)
    ds = DeepShap(model, background=row)(x, labels=[0, 2])
    dl = DeepLift(model)(x, labels=[0, 2], baselines=row)
    np.testing.assert_allclose(ds.values, dl.values, rtol=0, atol=1e-14)


def test_deepshap_additivity_and_shap_surface():
    model = seeded(ReluMLP(), 9)
    x = torch.randn(4, 5, dtype=torch.float64, generator=GEN)
    background = torch.randn(6, 5, dtype=torch.float64, generator=GEN)
    explainer = DeepShap(model, background)
    exp = explainer(x, labels=[0, 1, 2])
    expected = model(background).detach().numpy().mean(axis=0)
    np.testing.assert_allclose(explainer.expected_value, expected, atol=1e-13)
    np.testing.assert_allclose(exp.values.sum(axis=2),
                               model(x).detach().numpy() - expected, atol=1e-6)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-6)
    # mean over background rows of single-row DeepLIFT
    rows = [DeepLift(model)(x, labels=[0, 1, 2], baselines=b).values for b in background]
    np.testing.assert_allclose(exp.values, np.mean(rows, axis=0), atol=1e-13)
    sv = explainer.shap_values(x)
    assert sv.shape == (4, 5, 3)
    np.testing.assert_allclose(sv, np.moveaxis(exp.values, 1, -1), atol=1e-14)


def test_chunking_does_not_change_values():
    model = seeded(SmoothMLP(), 3)
    x = torch.randn(5, 4, dtype=torch.float64, generator=GEN)
    ref = IntegratedGradients(model, n_steps=10, batch_size=1000)(x, target=1)
    for size in (1, 7):
        other = IntegratedGradients(model, n_steps=10, batch_size=size)(x, target=1)
        np.testing.assert_allclose(other.values, ref.values, rtol=0, atol=1e-14)
    small = IntegratedGradients(model, n_steps=10, memory_budget=4096)(x, target=1)
    assert small.params["batch_size"] < 50
    np.testing.assert_allclose(small.values, ref.values, rtol=0, atol=1e-14)
    ds1 = DeepShap(seeded(ReluMLP(), 1), batch_size=3)
    ds2 = DeepShap(seeded(ReluMLP(), 1), batch_size=100)
    b = torch.randn(4, 5, dtype=torch.float64, generator=GEN)
    xx = torch.randn(3, 5, dtype=torch.float64, generator=GEN)
    np.testing.assert_allclose(ds1(xx, 0, b).values, ds2(xx, 0, b).values, atol=1e-14)


def test_memory_budget_bounds_chunk_for_many_steps():
    model = seeded(SmallCNN(size=6), 2)
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64, generator=GEN)
    exp = IntegratedGradients(model, n_steps=60, memory_budget=100_000)(x, target=0)
    assert 1 <= exp.params["batch_size"] < 60
    assert exp.params["n_backward"] >= 60 // exp.params["batch_size"]


def test_layer_ig_on_embedding_completeness():
    model = seeded(TextCNN(), 0)
    ids = torch.tensor([[3, 5, 7, 1, 0, 0], [2, 9, 4, 4, 8, 1]])
    exp = LayerIntegratedGradients(model, "emb", n_steps=64)(ids, target=1)
    assert exp.values.shape == (2, 1, 6, 5)
    assert np.abs(exp.delta).max() < 1e-2
    per_token = exp.values.sum(axis=3)
    np.testing.assert_allclose(per_token.sum(axis=2)[:, 0] - exp.delta[:, 0],
                               exp.output[:, 1] - exp.base_values[:, 0], atol=1e-10)


# ---------------------------------------------------------------- layer GradientSHAP values
IDS = torch.tensor([[3, 5, 7, 1, 0, 0], [2, 9, 4, 4, 8, 1]])
BACKGROUND_IDS = torch.tensor([[0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6], [9, 9, 8, 8, 7, 7],
                               [4, 0, 4, 0, 4, 0]])


def _embed_linear():
    """ids (n, 6) -> Embedding(10, 3) -> flatten -> Linear(18, 2): linear after the layer,
    so every GradientSHAP sample at the embedding is (A(x) - A(b)) * W[label] exactly."""
    model = torch.nn.Sequential(torch.nn.Embedding(10, 3), torch.nn.Flatten(),
                                torch.nn.Linear(18, 2))
    return seeded(model, 27)


def test_layer_gradient_shap_with_one_background_row_is_exact():
    model = _embed_linear()
    w = model[2].weight.detach().reshape(2, 6, 3)
    emb = model[0].weight.detach()
    exp = LayerGradientShap(model, "0", n_samples=3, random_state=0)(
        IDS, labels=[0, 1], baselines=BACKGROUND_IDS[1:2])
    assert exp.values.shape == (2, 2, 6, 3)
    expected = (emb[IDS] - emb[BACKGROUND_IDS[1]])[:, None] * w[None]
    np.testing.assert_allclose(exp.values, expected.numpy(), rtol=0, atol=1e-13)
    gap = (model(IDS) - model(BACKGROUND_IDS[1:2])).detach().numpy()
    np.testing.assert_allclose(exp.values.reshape(2, 2, -1).sum(axis=2), gap, atol=1e-12)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-12)


def test_layer_gradient_shap_of_a_linear_head_converges_to_the_background_mean():
    """values = (A(x) - mean over drawn rows A(b)) * w: with s draws of k equally likely
    rows, each coordinate's error is a mean of s i.i.d. terms of standard deviation
    sd_b(A(b)) |w| (the spread of the background's activations), so |error| stays within
    4.5 standard errors sd / sqrt(s) (a 1e-5 two-sided chance per coordinate under the
    normal approximation; the seed is fixed, so the test is deterministic)."""
    model = _embed_linear()
    w = model[2].weight.detach().reshape(2, 6, 3)
    a_b = model[0].weight.detach()[BACKGROUND_IDS]  # (4, 6, 3)
    s = 4000
    exp = LayerGradientShap(model, "0", n_samples=s, random_state=1)(
        IDS, labels=[0, 1], baselines=BACKGROUND_IDS)
    a_x = model[0].weight.detach()[IDS]
    expected = ((a_x - a_b.mean(0))[:, None] * w[None]).numpy()
    se = (a_b.std(0, unbiased=False)[None, None] * w[None].abs()).numpy() / np.sqrt(s)
    assert (np.abs(exp.values - expected) <= 4.5 * se + 1e-12).all()
    assert np.abs(exp.values - expected).max() > 0  # a sample, not the exact mean
    # completeness in expectation: sum -> f(x) - mean f(background), the gap in delta
    gap = model(IDS).detach().numpy() - model(BACKGROUND_IDS).detach().numpy().mean(0)
    np.testing.assert_allclose(exp.values.reshape(2, 2, -1).sum(axis=2) - exp.delta, gap,
                               atol=1e-12)
    sd_sum = np.sqrt(((a_b - a_b.mean(0))[:, None] * w[None]).reshape(4, 2, -1).sum(2)
                     .pow(2).mean(0).numpy())  # (2,) per label
    assert (np.abs(exp.delta) <= 4.5 * sd_sum / np.sqrt(s)).all()


def test_layer_gradient_shap_is_the_mean_over_its_draws_of_the_path_gradient():
    """A nonlinear head after the embedding (TextCNN): the values equal, to rounding,
    mean_s (A(x) - A(b_s)) * dF/dA(A(b_s) + a_s (A(x) - A(b_s))) computed here by
    autograd from the same draws (background rows b_s and points a_s ~ U(0, 1))."""
    model = seeded(TextCNN(), 0)
    s = 7
    lgs = LayerGradientShap(model, "emb", n_samples=s, random_state=3)
    exp = lgs(IDS, labels=[0, 1], baselines=BACKGROUND_IDS)
    rows_i, rows_s, alphas, _ = lgs._draws(2, 4, IDS.device)  # the same seed, the same draws
    emb = model.emb.weight.detach()

    def head(a):
        return model.fc(torch.relu(model.conv(a.transpose(1, 2))).amax(dim=2))

    a_x, a_b = emb[IDS], emb[BACKGROUND_IDS]
    expected = torch.zeros(2, 2, 6, 5, dtype=torch.float64)
    for i, r, a in zip(rows_i.tolist(), rows_s.tolist(), alphas.tolist(), strict=True):
        point = (a_b[r] + a * (a_x[i] - a_b[r])).requires_grad_(True)
        for j in range(2):
            (g,) = torch.autograd.grad(head(point[None])[0, j], point)
            expected[i, j] += (a_x[i] - a_b[r]) * g / s
    np.testing.assert_allclose(exp.values, expected.numpy(), rtol=0, atol=1e-12)
    assert np.abs(exp.values).max() > 1e-3
    # the alphas matter: another seed draws other points
    other = LayerGradientShap(model, "emb", n_samples=s, random_state=4)(
        IDS, labels=[0, 1], baselines=BACKGROUND_IDS)
    assert np.abs(other.values - exp.values).max() > 1e-3


def test_guided_backprop_and_deconvolution_rules_on_one_relu():
    # f(x) = -relu(x1 - x2): gradient is negative where x1 > x2, guided passes only
    # positive gradients -> zero; deconvolution passes relu(-1) = 0 as well, while
    # f(x) = relu(x1) - 3 x2 keeps the x2 path untouched.
    class F(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.act = torch.nn.ReLU()

        def forward(self, x):
            return (self.act(x[:, :1]) - 3 * x[:, 1:2]).reshape(-1, 1)

    model = F().double()
    x = torch.tensor([[2.0, 1.0], [-2.0, 1.0]], dtype=torch.float64)
    gb = GuidedBackprop(model)(x, target=0).values[:, 0]
    np.testing.assert_array_equal(gb, [[1.0, -3.0], [0.0, -3.0]])
    dc = Deconvolution(model)(x, target=0).values[:, 0]
    np.testing.assert_array_equal(dc, [[1.0, -3.0], [1.0, -3.0]])


# ---------------------------------------------------------------- side effects
X_IMG = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def _conv(model):
    return "inner.features.0" if isinstance(model, Raises) else "features.0"


RUNS = {
    "saliency": lambda m: Saliency(m),
    "inputxgradient": lambda m: InputXGradient(m),
    "integratedgradients": lambda m: IntegratedGradients(m, n_steps=4, batch_size=3),
    "smoothgrad": lambda m: SmoothGrad(m, nt_samples=3, random_state=0),
    "noisetunnel_ig": lambda m: NoiseTunnel(IntegratedGradients(m, n_steps=3), nt_samples=2,
                                            random_state=0),
    "guidedbackprop": lambda m: GuidedBackprop(m),
    "deconvolution": lambda m: Deconvolution(m),
    "deeplift": lambda m: DeepLift(m),
    "deepshap": lambda m: DeepShap(m, background=X_IMG * 0.1),
    "layerdeeplift": lambda m: LayerDeepLift(m, _conv(m)),
    "layerdeepshap": lambda m: LayerDeepShap(m, _conv(m), X_IMG[:1] * 0.1),
    "gradientshap": lambda m: GradientShap(m, n_samples=3, random_state=0),
    "layerintegratedgradients": lambda m: LayerIntegratedGradients(m, _conv(m), n_steps=3),
    "layergradientshap": lambda m: LayerGradientShap(m, _conv(m), n_samples=2, random_state=0),
    "noisetunnel_layerig": lambda m: NoiseTunnel(LayerIntegratedGradients(m, _conv(m), n_steps=2),
                                                 nt_samples=2, random_state=0),
    "deepexplainer": lambda m: _shap().DeepExplainer(m, X_IMG * 0.1),
    "deepexplainer_shapvalues": lambda m: _ShapValues(_shap().DeepExplainer(m, X_IMG * 0.1)),
}


def _shap():
    import whylens.shap

    return whylens.shap


class _ShapValues:
    """shap's call, ``explainer.shap_values(X)``, as a table run: labels moved to axis 1."""

    def __init__(self, explainer):
        self.explainer = explainer

    def __call__(self, x, target=None, labels=None):
        from types import SimpleNamespace

        values = self.explainer.shap_values(x, target, labels=labels)
        return SimpleNamespace(values=np.moveaxis(values, -1, 1))


# the token-id path: TokenIdRepresentation.explain with a text model; the layer methods
# (input methods refuse token ids, see BAD) and a CAM, on an odd text model
TOKEN_VOCAB = {"<pad>": 0, "a": 2, "great": 7, "film": 8, "bad": 9, "plot": 11}
TEXTS = ["a great film", "bad plot a film"]


def _token_rep():
    from whylens.representations import TokenIdRepresentation

    return TokenIdRepresentation(TOKEN_VOCAB, max_len=6, unk_id=1)


def odd_text_model():
    """TextCNN in training mode with an eval-mode conv and a frozen embedding."""
    model = seeded(TextCNN(), 5)
    model.train()
    model.conv.eval()
    model.emb.weight.requires_grad_(False)
    return model


TOKEN_RUNS = {
    "layerintegratedgradients": lambda m: LayerIntegratedGradients(m, "emb", n_steps=3,
                                                                   batch_size=2),
    "layergradientshap": lambda m: LayerGradientShap(m, "emb", n_samples=2, random_state=0),
    "layerdeeplift": lambda m: LayerDeepLift(m, "emb"),
    "layerdeepshap": lambda m: LayerDeepShap(m, "emb", _token_rep().to_tensor(["a", "bad"])),
    "gradcam": lambda m: GradCAM(m, "conv"),
}


def test_side_effect_table_covers_every_method():
    covered = {name.split("_")[0] for name in RUNS}
    assert set(GRADIENT_METHODS) <= covered
    assert {"deepexplainer", "deepexplainer_shapvalues"} <= set(RUNS)
    # token ids reach every layer method (and CAMs) through TokenIdRepresentation
    layer_methods = {name for name, cls in GRADIENT_METHODS.items() if cls.is_layer_method}
    assert layer_methods <= set(TOKEN_RUNS)


@pytest.mark.parametrize("name", sorted(TOKEN_RUNS))
def test_no_side_effects_on_the_token_id_path(name):
    rep = _token_rep()
    model = odd_text_model()
    before = snapshot(model)
    exp = rep.explain(TOKEN_RUNS[name](model), TEXTS, labels=[0, 1])
    assert exp.values.shape == (2, 2, 4)  # per token of the longest text
    assert np.abs(exp.values).max() > 0
    assert_untouched(model, before)
    with pytest.raises(InputError, match="target"):
        rep.explain(TOKEN_RUNS[name](model), TEXTS, target=5)
    assert_untouched(model, before)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    assert not torch._C._is_torch_function_mode_enabled()


def test_no_side_effects_of_token_id_predict_fn():
    """The LIME/SHAP path: rep.predict_fn(model) runs in eval mode, restores the flags;
    a model declared 'probability' that returns logits raises and leaves it as it was."""
    import copy

    from whylens.errors import ModelOutputError

    rep = _token_rep()
    model = odd_text_model()
    before = snapshot(model)
    probs = rep.predict_fn(model, batch_size=1)(TEXTS)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    with torch.no_grad():
        logits = copy.deepcopy(model).eval()(rep.to_tensor(TEXTS))
    np.testing.assert_allclose(probs, torch.softmax(logits, dim=1).numpy(), atol=1e-12)
    assert_untouched(model, before)
    with pytest.raises(ModelOutputError, match="returns='logits'"):
        rep.predict_fn(model, returns="probability")(["bad bad bad plot"] * 2 + TEXTS)
    assert_untouched(model, before)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


@pytest.mark.parametrize("name", sorted(RUNS))
def test_no_side_effects(name):
    model = odd_model()
    before = snapshot(model)
    x = X_IMG.clone()
    exp = RUNS[name](model)(x, labels=[1, 2])
    assert exp.values.shape[:2] == (2, 2)
    assert_untouched(model, before)
    assert torch.equal(x, X_IMG)
    # a bad target raises and leaves nothing behind
    with pytest.raises(InputError, match="target"):
        RUNS[name](model)(x, target=9)
    assert_untouched(model, before)
    assert not torch._C._is_torch_function_mode_enabled()


@pytest.mark.parametrize("name", sorted(RUNS))
def test_no_side_effects_when_model_raises(name):
    inner = odd_model()
    model = Raises(inner)
    before = snapshot(model)
    with pytest.raises(ModelError):
        RUNS[name](model)(X_IMG, target=0)
    assert_untouched(model, before)
    assert not torch._C._is_torch_function_mode_enabled()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_layer_rewrites_reach_reused_modules():
    """DeepLIFT sees every call of a module used twice (summation holds)."""
    model = seeded(ReusedRelu(), 12)
    x = torch.randn(5, 4, dtype=torch.float64, generator=GEN)
    exp = DeepLift(model)(x, target=1)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-6)


# ---------------------------------------------------------------- bad input
BAD = [
    (lambda: Saliency(seeded(TextCNN()))(torch.tensor([[1, 2, 3]])), InputTypeError,
     "LayerSaliency|embedding"),
    (lambda: IntegratedGradients(LinearNet())(X4, baselines=torch.zeros(2, 4)), InputError,
     "baselines"),
    (lambda: IntegratedGradients(LinearNet(), n_steps=0), InputError, "n_steps"),
    (lambda: IntegratedGradients(LinearNet(), method="simpson"), InputError, "method"),
    (lambda: IntegratedGradients(LinearNet(), method="riemann_trapezoid", n_steps=1),
     InputError, "n_steps"),
    (lambda: NoiseTunnel(Saliency(LinearNet()), nt_type="mean"), InputError, "nt_type"),
    (lambda: NoiseTunnel(LinearNet()), InputTypeError, "method"),
    (lambda: NoiseTunnel(SmoothGrad(LinearNet())), InputTypeError, "method"),
    (lambda: NoiseTunnel(LayerIntegratedGradients(seeded(TextCNN()), "emb"))(
        torch.tensor([[1, 2, 3]])), InputTypeError, "floating-point"),
    (lambda: DeepLift(LinearNet(), softmax="exact"), InputError, "softmax"),
    (lambda: LayerDeepLift(LinearNet(), None), InputError, "layer.*use DeepLift"),
    (lambda: LayerDeepShap(LinearNet(), None), InputError, "layer.*use DeepShap"),
    (lambda: LayerGradientShap(LinearNet(), None), InputError, "layer.*use GradientShap"),
    (lambda: SmoothGrad(LinearNet(), stdevs=-1), InputError, "stdevs"),
    (lambda: LayerIntegratedGradients(LinearNet(), None), InputError,
     "layer.*use IntegratedGradients"),
    (lambda: LayerIntegratedGradients(LinearNet(), "fcc"), InputError, "fc"),
    (lambda: Saliency("not a model"), InputTypeError, "model"),
    (lambda: Saliency(LinearNet())(X4[0]), InputError, "batch"),
    (lambda: Saliency(LinearNet())(X4, target=5), InputError, "target"),
    (lambda: DeepShap(LinearNet(), background=torch.zeros(3, 5))(X4), InputError,
     "background"),
    (lambda: GradientShap(LinearNet(), n_samples=0), InputError, "n_samples"),
    (lambda: attribution("occlusion", LinearNet()), InputError, "method"),
    (lambda: attribution("saliency", LinearNet(), "fc"), InputError, "layer"),
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_factory_builds_layer_variants():
    model = seeded(TextCNN())
    assert isinstance(attribution("ig", model, "emb"), LayerIntegratedGradients)
    assert isinstance(attribution("GradientShap", model, "emb"), LayerGradientShap)
    assert isinstance(attribution("deep-lift", LinearNet()), DeepLift)
    assert isinstance(attribution("deeplift", model, "emb"), LayerDeepLift)
    assert isinstance(attribution("DeepShap", model, "emb"), LayerDeepShap)


def test_explanation_round_trip_keeps_delta():
    from whylens import Explanation

    exp = IntegratedGradients(seeded(SmoothMLP(), 1), n_steps=5)(X4, labels=[0, 1])
    back = Explanation.from_json(exp.to_json())
    assert back == exp
    np.testing.assert_array_equal(back.delta, exp.delta)
    assert exp[1].delta.shape == (1, 2)


def test_as_list_on_an_unnamed_map_raises_clearly():
    from whylens.errors import NotSupportedError

    exp = Saliency(seeded(GapNet(), 1))(X_IMG[:1], target=1)
    with pytest.raises(NotSupportedError, match="feature names"):
        exp.as_list(1)
    # named features (tabular) work
    exp = InputXGradient(LinearNet())(X4[:1], target=0)
    expected = (X4[0] * W[0]).numpy()
    j = int(np.argmax(np.abs(expected)))
    assert exp.as_list(0)[0] == (f"x{j}", pytest.approx(expected[j]))


def test_deep_explainer_alias_in_whylens_shap():
    import whylens.shap

    explainer = whylens.shap.DeepExplainer(seeded(ReluMLP(), 3), torch.zeros(2, 5,
                                                                          dtype=torch.float64))
    assert isinstance(explainer, DeepShap)
    sv = explainer.shap_values(torch.ones(1, 5, dtype=torch.float64))
    assert sv.shape == (1, 5, 3)
    with pytest.raises(AttributeError):
        whylens.shap.NoSuchExplainer  # noqa: B018


def test_noise_tunnel_does_not_depend_on_chunking():
    model = seeded(SmoothMLP(), 4)
    x = torch.randn(3, 4, dtype=torch.float64, generator=GEN)
    results = [NoiseTunnel(IntegratedGradients(model, n_steps=4, batch_size=size),
                           nt_type="vargrad", nt_samples=5, stdevs=0.2,
                           random_state=7)(x, target=1).values for size in (1, 4, 1000)]
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(results[0], results[2], rtol=0, atol=1e-13)
    assert np.abs(results[0]).max() > 0
    zero = NoiseTunnel(Saliency(model), nt_type="vargrad", nt_samples=3, stdevs=0.0,
                       random_state=0)(x, target=1).values
    np.testing.assert_allclose(zero, 0.0, atol=1e-15)  # no noise, no variance


# ---------------------------------------------------------------- DeepLIFT: max pooling, softmax
def _pair(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, dtype=torch.float64, generator=gen),
            torch.randn(*shape, dtype=torch.float64, generator=gen) * 0.5)


def test_deeplift_maxpool_summation():
    model = seeded(PoolCNN(size=6), 21)
    x, ref = _pair((4, 2, 6, 6), 1)
    exp = DeepLift(model)(x, labels=[0, 2], baselines=ref)
    gap = (model(x) - model(ref)).detach().numpy()[:, [0, 2]]
    np.testing.assert_allclose(exp.values.reshape(4, 2, -1).sum(axis=2), gap, atol=1e-6)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-6)
    # the max-pool rule is really applied: plain gradients through the pool miss the sum
    assert np.abs(exp.values - InputXGradient(model)(x - ref, labels=[0, 2]).values).max() > 1e-3


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("log", [False, True])
def test_deeplift_functional_maxpool_and_softmax_sum_to_delta(dims, log):
    """F.max_pool{1,2,3}d with overlapping windows, torch.relu, torch.softmax and
    x.log_softmax, none of them a module: the centred rules keep summation exact."""
    model = seeded(FunctionalPool(dims=dims, size=4, log=log), 30 + dims).double()
    x, ref = _pair((3, 2) + (4,) * dims, dims)
    exp = DeepLift(model, softmax="centered")(x, labels=[1, 3], baselines=ref)
    gap = (model(x) - model(ref)).detach().numpy()[:, [1, 3]]
    np.testing.assert_allclose(exp.values.reshape(3, 2, -1).sum(axis=2), gap, atol=1e-6)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-6)


def test_deeplift_rules_see_every_spelling():
    """Each max-pool and softmax spelling the rules list is what torch calls."""
    from torch.overrides import TorchFunctionMode

    from whylens.torch._rules import MAXPOOLS, SOFTMAXES

    seen = []

    class Spy(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    x = torch.randn(1, 2, 4, 4)
    with Spy():
        torch.nn.MaxPool2d(2)(x)
        torch.nn.MaxPool1d(2)(x[:, :, 0])
        torch.nn.MaxPool3d(2)(x[:, None])
        torch.nn.Softmax(dim=1)(x)
        torch.nn.LogSoftmax(dim=1)(x)
        x.softmax(1)
        torch.log_softmax(x, 1)
    assert sum(f in MAXPOOLS for f in seen) == 3
    assert sum(f in SOFTMAXES for f in seen) == 4


def test_deeplift_default_softmax_rule_reports_its_summation_gap_in_delta():
    """The default softmax rule is captum's (see test_gradients_captum.py), per pair."""
    model = seeded(SoftmaxMLP(), 22)
    x, ref = _pair((4, 5), 2)
    exp = DeepLift(model)(x, target=1, baselines=ref)
    gap = (model(x) - model(ref)).detach().numpy()[:, 1]
    np.testing.assert_allclose(exp.values.sum(axis=2)[:, 0] - exp.delta[:, 0], gap, atol=1e-6)
    # captum's centring costs summation: the gap is mean(u) * sum(z - z'), reported in delta
    assert np.abs(exp.delta).max() > 1e-4
    plain = DeepLift(model, softmax="centered")(x, target=1, baselines=ref)
    assert np.abs(plain.values - exp.values).max() > 1e-4


@pytest.mark.parametrize("log", [False, True])
def test_deeplift_centered_softmax_sums_to_delta_and_ignores_logit_shifts(log):
    model = seeded(SoftmaxMLP(log=log), 23)
    x, ref = _pair((4, 5), 3)
    exp = DeepLift(model, softmax="centered")(x, labels=[0, 1, 2], baselines=ref)
    gap = (model(x) - model(ref)).detach().numpy()
    np.testing.assert_allclose(exp.values.sum(axis=2), gap, atol=1e-6)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-6)
    shifted = seeded(SoftmaxMLP(log=log), 23)
    with torch.no_grad():
        shifted.net[2].bias += 3.0  # softmax(z + c) = softmax(z)
    again = DeepLift(shifted, softmax="centered")(x, labels=[0, 1, 2], baselines=ref)
    np.testing.assert_allclose(again.values, exp.values, atol=1e-12)


# ---------------------------------------------------------------- layer DeepLIFT / DeepSHAP
@pytest.mark.parametrize("layer", ["features.0", "features.2", "head.0"])
def test_layer_deeplift_summation(layer):
    model = seeded(PoolCNN(size=6), 24)
    x, ref = _pair((3, 2, 6, 6), 4)
    exp = LayerDeepLift(model, layer)(x, target=1, baselines=ref)
    module = dict(model.named_modules())[layer]
    with torch.no_grad():
        act = module(model.features[:int(layer[-1])](x)) if layer.startswith("features") \
            else None
    if act is not None:
        assert exp.values.shape == (3, 1, *act.shape[1:])
    gap = (model(x) - model(ref)).detach().numpy()[:, 1]
    np.testing.assert_allclose(exp.values.reshape(3, -1).sum(axis=1), gap, atol=1e-6)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-6)


def test_layer_deepshap_additivity():
    model = seeded(PoolCNN(size=6), 25)
    x, _ = _pair((3, 2, 6, 6), 5)
    background = torch.randn(5, 2, 6, 6, dtype=torch.float64,
                             generator=torch.Generator().manual_seed(6))
    explainer = LayerDeepShap(model, "features.2", background)
    exp = explainer(x, labels=[0, 2])
    expected = model(background).detach().numpy().mean(axis=0)
    np.testing.assert_allclose(explainer.expected_value, expected, atol=1e-13)
    np.testing.assert_allclose(exp.values.reshape(3, 2, -1).sum(axis=2),
                               model(x).detach().numpy()[:, [0, 2]] - expected[[0, 2]],
                               atol=1e-6)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-6)
    one = LayerDeepShap(model, "features.2", background[:1])(x, labels=[0, 2])
    dl = LayerDeepLift(model, "features.2")(x, labels=[0, 2], baselines=background[:1])
    np.testing.assert_allclose(one.values, dl.values, rtol=0, atol=1e-14)
    # chunking does not change values
    small = LayerDeepShap(model, "features.2", background, batch_size=2)(
        x, labels=[0, 2])
    np.testing.assert_allclose(small.values, exp.values, rtol=0, atol=1e-13)


def test_layer_deeplift_on_embedding_of_token_ids():
    model = seeded(TextCNN(), 3)
    ids = torch.tensor([[3, 5, 7, 1, 0, 0], [2, 9, 4, 4, 8, 1]])
    exp = LayerDeepLift(model, "emb")(ids, target=1)
    assert exp.values.shape == (2, 1, 6, 5)
    np.testing.assert_allclose(exp.values.reshape(2, -1).sum(axis=1) - exp.delta[:, 0],
                               exp.output[:, 1] - exp.base_values[:, 0], atol=1e-10)


# ---------------------------------------------------------------- noise tunnel over layers
def _tanh_cnn():
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.Tanh(),
                                torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.Flatten(),
                                torch.nn.Linear(3 * 25, 3))
    return seeded(model, 26).double()


def test_noise_tunnel_over_layer_ig_zero_noise_is_the_method():
    model = _tanh_cnn()
    x, base = _pair((2, 2, 5, 5), 7)
    lig = LayerIntegratedGradients(model, "2", n_steps=8)
    ours = NoiseTunnel(lig, nt_samples=3, stdevs=0.0, random_state=0)(x, target=1,
                                                                      baselines=base)
    np.testing.assert_allclose(ours.values, lig(x, target=1, baselines=base).values, rtol=0,
                               atol=1e-14)
    assert ours.features.kind == "layer" and ours.values.shape == (2, 1, 3, 5, 5)


class _DoublesInputInPlace(torch.nn.Module):
    """``f(x) = (2 x) @ W.T``, doubling its input in place: IG = 2 (x - x') * W[label]."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = LinearNet(bias=False)

    def forward(self, x):
        return self.fc(x.mul_(2))


@pytest.mark.parametrize("size", [1, 3, 5, 9, 12, 1000])
def test_ig_chunks_cut_anywhere_in_the_step_grid(size):
    # 3 instances x 4 steps = 12 rows; chunks of 3, 5, 9 rows start and end inside an
    # instance's steps (head / whole instances / tail): IG = (x - x') * W exactly
    model = LinearNet()
    base = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    exp = IntegratedGradients(model, n_steps=4, batch_size=size)(
        X4, labels=[1, 0], baselines=base)
    expected = (X4 - base)[:, None, :] * W[[1, 0]][None]
    np.testing.assert_allclose(exp.values, expected.numpy(), rtol=0, atol=1e-13)
    assert exp.params["n_backward"] == 2 * -(-12 // size)


def test_ig_when_the_model_changes_its_input_in_place():
    # the path points are not a leaf tensor, so x.mul_() in forward is allowed
    model = _DoublesInputInPlace()
    x = X4.clone()
    exp = IntegratedGradients(model, n_steps=3, batch_size=4)(x, labels=[0, 1])
    np.testing.assert_allclose(exp.values, (2 * X4[:, None, :] * W[None]).numpy(),
                               rtol=0, atol=1e-13)
    assert torch.equal(x, X4)


@pytest.mark.parametrize("size", [7, 1000])
def test_layer_ig_with_an_in_place_op_after_the_layer(size):
    # GapNet's features.0 (conv) is followed by ReLU(inplace=True), which changes the
    # tensor the layer passes on (captum raises here: it passes on its leaf). The values
    # must be those of the same network with an out-of-place ReLU (and captum's on that
    # network: test_gradients_captum.py).
    import copy

    model = seeded(GapNet(), 4).double()
    plain = copy.deepcopy(model)
    plain.features[1].inplace = False
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ours = LayerIntegratedGradients(model, "features.0", n_steps=6,
                                    batch_size=size)(x, target=2)
    same = LayerIntegratedGradients(plain, "features.0", n_steps=6)(x, target=2)
    np.testing.assert_allclose(ours.values, same.values, rtol=0, atol=1e-14)
    gap = ours.output[:, 2] - ours.base_values[:, 0]
    np.testing.assert_allclose(ours.values.reshape(2, -1).sum(1) - ours.delta[:, 0], gap,
                               atol=1e-12)


def test_segments_of_the_step_grid():
    from whylens.torch._runner import _segments

    # rows 3..13 of a 4-step grid: tail of instance 0, instances 1-2, head of instance 3
    assert _segments(3, 14, 4) == [(0, 1, 3, 4, 0), (1, 2, 0, 4, 1), (3, 1, 0, 2, 9)]
    assert _segments(0, 8, 4) == [(0, 2, 0, 4, 0)]
    assert _segments(5, 7, 4) == [(1, 1, 1, 3, 0)]


def test_ig_repeated_baseline_row_is_evaluated_once():
    # zeros_like(x) (n equal rows) gives the values of one zero row, with one model row
    # for the reference instead of n
    model = LinearNet()
    one = IntegratedGradients(model, n_steps=3)(X4, labels=[0, 1])
    rows = IntegratedGradients(model, n_steps=3)(X4, labels=[0, 1],
                                                 baselines=torch.zeros_like(X4))
    np.testing.assert_allclose(rows.values, one.values, rtol=0, atol=0)
    np.testing.assert_allclose(rows.base_values, one.base_values, rtol=0, atol=0)
    assert rows.n_evals == one.n_evals
    model_ids = seeded(TextCNN(), 0)
    ids = torch.tensor([[3, 5, 7, 1, 0, 0], [2, 9, 4, 4, 8, 1]])
    lig = LayerIntegratedGradients(model_ids, "emb", n_steps=5)
    lig(ids, target=1)  # the memory probe's rows count once
    a, b = lig(ids, target=1), lig(ids, target=1, baselines=torch.zeros_like(ids))
    np.testing.assert_allclose(b.values, a.values, rtol=0, atol=0)
    assert b.n_evals == a.n_evals


# ---------------------------------------------------------------- the calling convention
X3 = torch.randn(3, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(12))


class RowwiseGapNet(GapNet):
    """GapNet whose head is an elementwise product and a sum per row: each row is scored
    with the same arithmetic at any batch size (a float64 ``nn.Linear`` is not: MKL takes
    another path for a product of 1 or 2 rows, which moves the last bit), so chunking
    can be checked to the bit."""

    def forward(self, x):
        pooled = self.pool(self.features(x)).flatten(1)
        return (pooled[:, None, :] * self.head.weight).sum(dim=2) + self.head.bias


def _gapnet(seed):
    return seeded(RowwiseGapNet(), seed)


def _build(name, model, **kw):
    """Every gradient method on a GapNet (float64), with the chunking arguments ``kw``."""
    return {
        "saliency": lambda: Saliency(model, **kw),
        "inputxgradient": lambda: InputXGradient(model, **kw),
        "guidedbackprop": lambda: GuidedBackprop(model, **kw),
        "deconvolution": lambda: Deconvolution(model, **kw),
        "integratedgradients": lambda: IntegratedGradients(model, n_steps=5, **kw),
        "gradientshap": lambda: GradientShap(model, n_samples=3, stdevs=0.1, random_state=0,
                                             **kw),
        "smoothgrad": lambda: SmoothGrad(model, nt_samples=3, random_state=0, **kw),
        "noisetunnel_ig": lambda: NoiseTunnel(IntegratedGradients(model, n_steps=3, **kw),
                                              nt_type="vargrad", nt_samples=2, random_state=0),
        "deeplift": lambda: DeepLift(model, **kw),
        "deepshap": lambda: DeepShap(model, X_IMG * 0.1, **kw),
        "layerintegratedgradients": lambda: LayerIntegratedGradients(model, "features.0",
                                                                     n_steps=5, **kw),
        "layergradientshap": lambda: LayerGradientShap(model, "features.2", n_samples=3,
                                                       random_state=0, **kw),
        "layerdeeplift": lambda: LayerDeepLift(model, "features.2", **kw),
        "layerdeepshap": lambda: LayerDeepShap(model, "features.0", X_IMG * 0.1, **kw),
    }[name]()


CONVENTION = ["saliency", "inputxgradient", "guidedbackprop", "deconvolution",
              "integratedgradients", "gradientshap", "smoothgrad", "noisetunnel_ig", "deeplift",
              "deepshap", "layerintegratedgradients", "layergradientshap", "layerdeeplift",
              "layerdeepshap"]
#: their draws depend on which rows are explained together (row i's samples are rows
#: i * n_samples + k of one seeded stream)
STOCHASTIC = {"gradientshap", "smoothgrad", "noisetunnel_ig", "layergradientshap"}


def _same(a, b):
    """Bit-identical values, base values and completeness gaps."""
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.output, b.output)
    if a.base_values is None:
        assert b.base_values is None
    else:
        np.testing.assert_array_equal(a.base_values, b.base_values)
        np.testing.assert_array_equal(a.delta, b.delta)


def test_convention_table_covers_every_method():
    assert {name.split("_")[0] for name in CONVENTION} >= set(GRADIENT_METHODS)


@pytest.mark.parametrize("name", CONVENTION)
def test_per_row_target_is_each_row_with_its_own_target(name):
    """target=[1, 3, 1] explains row i at output target[i]: values (3, 1, ...), labels
    (3, 1). Deterministic methods: equal to each row explained alone; stochastic ones:
    equal to the call explaining both labels for every row (the same draws), at each
    row's label."""
    model = _gapnet(1)
    targets = [1, 3, 1]
    exp = _build(name, model)(X3, target=targets)
    assert exp.values.shape[:2] == (3, 1)
    assert exp.labels.tolist() == [[1], [3], [1]]
    assert [e.labels.tolist() for e in (exp[0], exp[1])] == [[1], [3]]
    if name in STOCHASTIC:
        both = _build(name, model)(X3, labels=[1, 3])
        pick = [[1, 3].index(t) for t in targets]
        expected = np.stack([both.values[i, j] for i, j in enumerate(pick)])[:, None]
        np.testing.assert_array_equal(exp.values, expected)
        if exp.base_values is not None:
            np.testing.assert_array_equal(
                exp.base_values[:, 0], [both.base_values[i, j] for i, j in enumerate(pick)])
    else:
        alone = [_build(name, model)(X3[i : i + 1], target=t) for i, t in enumerate(targets)]
        np.testing.assert_array_equal(exp.values, np.concatenate([a.values for a in alone]))
        if exp.base_values is not None:
            np.testing.assert_array_equal(exp.base_values,
                                          np.concatenate([a.base_values for a in alone]))
    assert np.abs(exp.values).max() > 0
    # the same per-row targets as a tensor and as an array
    _same(_build(name, model)(X3, target=torch.tensor(targets)), exp)
    _same(_build(name, model)(X3, target=np.array(targets)), exp)


@pytest.mark.parametrize("name", CONVENTION)
def test_labels_argument_is_the_single_label_calls_side_by_side(name):
    model = _gapnet(2)
    both = _build(name, model)(X3, labels=[3, 0])
    assert both.values.shape[:2] == (3, 2) and both.labels.tolist() == [3, 0]
    for j, label in enumerate([3, 0]):
        one = _build(name, model)(X3, target=label)
        np.testing.assert_array_equal(both.values[:, j], one.values[:, 0])
        if one.base_values is not None:
            np.testing.assert_array_equal(both.base_values[:, j], one.base_values[:, 0])
            np.testing.assert_array_equal(both.delta[:, j], one.delta[:, 0])


@pytest.mark.parametrize("name", CONVENTION)
def test_values_are_bit_identical_across_batch_sizes(name):
    """Chunks of 1, 2, 4 and 7 rows and the memory budget's chunk give the same bits: the
    model scores each row alike at any batch size, and every sum over steps, samples or
    background rows is taken term by term in the same order."""
    model = _gapnet(3)
    ref = _build(name, model)(X3, target=[2, 0, 1])
    for size in (1, 2, 4, 7):
        _same(_build(name, model, batch_size=size)(X3, target=[2, 0, 1]), ref)
    assert np.abs(ref.values).max() > 0


def test_internal_batch_size_is_captums_name_for_batch_size():
    model = _gapnet(3)
    a = IntegratedGradients(model, n_steps=4, internal_batch_size=3)
    b = IntegratedGradients(model, n_steps=4, batch_size=3)
    assert a.batch_size == a.internal_batch_size == 3
    ea, eb = a(X3, target=1), b(X3, target=1)
    _same(ea, eb)
    assert ea.params["batch_size"] == 3 and ea.params["n_backward"] == -(-3 * 4 // 3)


@pytest.mark.parametrize("name", CONVENTION)
def test_callback_false_cancels_and_leaves_the_model_as_it_was(name):
    from whylens.errors import Cancelled

    model = odd_model()
    before = snapshot(model)
    seen = []
    exp = _build(name, model, batch_size=2)(X3, target=1,
                                            callback=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1]  # the last report: all done
    assert all(0 < d <= t for d, t in seen)
    assert_untouched(model, before)
    calls = []

    def stop(done, total):
        calls.append(done)
        return False

    with pytest.raises(Cancelled):
        _build(name, model, batch_size=2)(X3, target=1, callback=stop)
    assert len(calls) == 1  # stopped at the first report
    assert_untouched(model, before)
    assert not torch._C._is_torch_function_mode_enabled()
    assert torch.is_grad_enabled()

    def cancel(done, total):
        raise Cancelled("stop")

    with pytest.raises(Cancelled, match="stop"):
        _build(name, model)(X3, target=1, callback=cancel)
    assert_untouched(model, before)
    # and the model still explains as before
    _same(_build(name, model, batch_size=2)(X3, target=1), exp)


@pytest.mark.parametrize("cls", [IntegratedGradients, Saliency])
def test_four_threads_on_one_training_mode_model_equal_the_sequential_calls(cls):
    """The call holds the model's lock: without it, one thread's restore of the flags
    raced another's snapshot, leaving every parameter frozen and the model in eval mode."""
    from concurrent.futures import ThreadPoolExecutor

    model = odd_model()
    before = snapshot(model)
    explainer = cls(model, batch_size=2)
    xs = [X3 * (1 + k / 4) for k in range(8)]
    sequential = [explainer(x, target=[k % 4, 1, 2]) for k, x in enumerate(xs)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda k: explainer(xs[k], target=[k % 4, 1, 2]), range(8)))
    for a, b in zip(parallel, sequential, strict=True):
        _same(a, b)
    assert_untouched(model, before)


@pytest.mark.parametrize("name", CONVENTION)
def test_explainers_pickle_and_explain_the_same_after(name):
    import pickle

    model = _gapnet(4)
    explainer = _build(name, model, batch_size=5)
    exp = explainer(X3, target=[0, 3, 2])
    again = pickle.loads(pickle.dumps(explainer))
    assert type(again) is type(explainer) and again.batch_size == 5
    _same(again(X3, target=[0, 3, 2]), exp)
    _same(explainer(X3, target=[0, 3, 2]), exp)  # random_state: the same draws every call


@pytest.mark.parametrize("name", sorted(STOCHASTIC))
def test_random_state_gives_bit_identical_values(name):
    model = _gapnet(5)
    _same(_build(name, model)(X3, target=1), _build(name, model)(X3, target=1))
    other = {"gradientshap": lambda: GradientShap(model, n_samples=3, stdevs=0.1,
                                                  random_state=1),
             "smoothgrad": lambda: SmoothGrad(model, nt_samples=3, random_state=1),
             "noisetunnel_ig": lambda: NoiseTunnel(IntegratedGradients(model, n_steps=3),
                                                   nt_type="vargrad", nt_samples=2,
                                                   random_state=1),
             "layergradientshap": lambda: LayerGradientShap(model, "features.2", n_samples=3,
                                                            random_state=1)}[name]()
    assert not np.array_equal(other(X3, target=1).values, _build(name, model)(X3, target=1).values)


def test_target_none_is_each_rows_predicted_class():
    model = _gapnet(7)
    exp = IntegratedGradients(model, n_steps=4)(X3)
    top = model(X3).argmax(dim=1).numpy()
    assert len(set(top.tolist())) > 1  # the rows disagree: per-row labels
    np.testing.assert_array_equal(exp.labels[:, 0], top)
    _same(exp, IntegratedGradients(model, n_steps=4)(X3, target=top.tolist()))


def test_progress_bar_over_several_chunks(capsys):
    model = _gapnet(7)
    quiet = IntegratedGradients(model, n_steps=4, batch_size=5)(X3, target=1, progress=False)
    assert "whylens" not in capsys.readouterr().err
    shown = IntegratedGradients(model, n_steps=4, batch_size=5)(X3, target=1, progress=True)
    assert "whylens: IntegratedGradients" in capsys.readouterr().err
    _same(shown, quiet)


CONVENTION_BAD = [
    (lambda: Saliency(LinearNet())(X4, target=[0, 1]), InputError, "labels="),
    (lambda: Saliency(LinearNet())(X4, target=[[0, 1]] * 3), InputError, "labels="),
    (lambda: Saliency(LinearNet())(X4, target=0, labels=[1]), InputError, "labels"),
    (lambda: Saliency(LinearNet())(X4, labels=[]), InputError, "labels"),
    (lambda: Saliency(LinearNet())(X4, labels=[0, 2]), InputError, "labels"),
    (lambda: Saliency(LinearNet())(X4, target=1.5), InputTypeError, "target"),
    (lambda: Saliency(LinearNet())(X4, callback=3), InputTypeError, "callback"),
    (lambda: Saliency(LinearNet(), batch_size=0), InputError, "batch_size"),
    (lambda: Saliency(LinearNet(), batch_size=2, internal_batch_size=3), InputError,
     "internal_batch_size"),
    (lambda: IntegratedGradients(LinearNet(), internal_batch_size=-1), InputError,
     "internal_batch_size"),
]


@pytest.mark.parametrize("call, error, match", CONVENTION_BAD)
def test_bad_convention_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
