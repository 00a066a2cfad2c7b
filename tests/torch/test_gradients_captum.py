"""Gradient attributions agree with captum on the same cases (skipped without captum).

The closed forms, axioms and side effects are in test_gradients.py, which runs
without captum.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
CAPTUM = pytest.importorskip("captum.attr")

from whylens.torch import (  # noqa: E402
    Deconvolution,
    DeepLift,
    GuidedBackprop,
    InputXGradient,
    IntegratedGradients,
    LayerDeepLift,
    LayerDeepShap,
    LayerGradientShap,
    LayerIntegratedGradients,
    NoiseTunnel,
    Saliency,
)

from .models import GapNet, PoolCNN, SmallCNN, SoftmaxMLP, TextCNN, seeded  # noqa: E402
from .test_gradients import _pair, _tanh_cnn  # noqa: E402


# ---------------------------------------------------------------- input attributions
def _captum_case():
    model = seeded(SmallCNN(size=5), 11)
    x = torch.randn(3, 2, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    base = torch.randn(3, 2, 5, 5, dtype=torch.float64,
                       generator=torch.Generator().manual_seed(6)) * 0.3
    return model, x, base


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ["saliency", "saliency_signed", "inputxgradient",
                                  "ig_gausslegendre", "ig_riemann_left", "ig_riemann_middle",
                                  "guidedbackprop", "deconvolution", "deeplift"])
def test_agrees_with_captum(name):
    model, x, base = _captum_case()
    target = 2
    if name.startswith("saliency"):
        absolute = name == "saliency"
        ours = Saliency(model, abs=absolute)(x, target=target).values[:, 0]
        theirs = CAPTUM.Saliency(model).attribute(x, target=target, abs=absolute)
    elif name == "inputxgradient":
        ours = InputXGradient(model)(x, target=target).values[:, 0]
        theirs = CAPTUM.InputXGradient(model).attribute(x, target=target)
    elif name.startswith("ig_"):
        method = name[3:]
        ours = IntegratedGradients(model, n_steps=24, method=method)(
            x, target=target, baselines=base).values[:, 0]
        theirs = CAPTUM.IntegratedGradients(model).attribute(
            x, baselines=base, target=target, n_steps=24, method=method)
    elif name == "guidedbackprop":
        ours = GuidedBackprop(model)(x, target=target).values[:, 0]
        theirs = CAPTUM.GuidedBackprop(model).attribute(x, target=target)
    elif name == "deconvolution":
        ours = Deconvolution(model)(x, target=target).values[:, 0]
        theirs = CAPTUM.Deconvolution(model).attribute(x, target=target)
    else:
        ours = DeepLift(model)(x, target=target, baselines=base).values[:, 0]
        theirs = CAPTUM.DeepLift(model).attribute(x, baselines=base, target=target)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-6)
    assert np.abs(ours).max() > 1e-3  # not trivially zero


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_layer_ig_agrees_with_captum_on_embedding():
    model = seeded(TextCNN(), 2)
    ids = torch.tensor([[3, 5, 7, 1, 0, 0], [2, 9, 4, 4, 8, 1]])
    ours = LayerIntegratedGradients(model, "emb", n_steps=20)(ids, target=0).values[:, 0]
    theirs = CAPTUM.LayerIntegratedGradients(model, model.emb).attribute(
        ids, baselines=torch.zeros_like(ids), target=0, n_steps=20)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_layer_gradient_shap_agrees_with_captum_under_the_same_draws(monkeypatch):
    """captum draws the background rows with np.random.choice and the points with
    np.random.uniform (the noise, stdevs=0, is zero); replaying them from the same numpy
    seed and handing them to whylens gives captum's values. The layer is the first conv,
    affine in the input: there captum's path (interpolating inputs) and whylens' (the
    layer's activations) are the same; the ReLU after it makes the gradient depend on
    where on the path a point lies, so the points matter."""
    model, x, _ = _captum_case()
    background = torch.randn(4, 2, 5, 5, dtype=torch.float64,
                             generator=torch.Generator().manual_seed(8)) * 0.5
    n, k, s = x.shape[0], background.shape[0], 6
    state = np.random.get_state()  # noqa: NPY002 (captum draws from the global one)
    try:
        np.random.seed(11)  # noqa: NPY002
        theirs = CAPTUM.LayerGradientShap(model, model.features[0]).attribute(
            x, baselines=background, target=2, n_samples=s, stdevs=0.0)
        np.random.seed(11)  # noqa: NPY002
        rows = torch.as_tensor(np.random.choice(k, n * s))  # noqa: NPY002
        alphas = torch.as_tensor(np.random.uniform(0.0, 1.0, n * s))  # noqa: NPY002
    finally:
        np.random.set_state(state)  # noqa: NPY002
    lgs = LayerGradientShap(model, "features.0", n_samples=s, random_state=0)
    own = lgs._draws

    def captums_draws(n_, k_, dev):
        rows_i, _, _, gen = own(n_, k_, dev)
        return rows_i, rows.to(dev), alphas.to(dev), gen

    monkeypatch.setattr(lgs, "_draws", captums_draws)
    ours = lgs(x, target=2, baselines=background)
    np.testing.assert_allclose(ours.values[:, 0], theirs.detach().numpy(), rtol=0, atol=1e-10)
    assert np.abs(ours.values).max() > 1e-3
    # with its own draws whylens differs (other rows and points), by a sampling error
    monkeypatch.undo()
    assert np.abs(lgs(x, target=2, baselines=background).values[:, 0]
                  - theirs.detach().numpy()).max() > 1e-6


# ---------------------------------------------------------------- DeepLIFT: max pooling, softmax
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_deeplift_maxpool_agrees_with_captum():
    model = seeded(PoolCNN(size=6), 21)
    x, ref = _pair((4, 2, 6, 6), 1)
    exp = DeepLift(model)(x, labels=[0, 2], baselines=ref)
    for j, target in enumerate([0, 2]):
        theirs = CAPTUM.DeepLift(model).attribute(x, baselines=ref, target=target)
        np.testing.assert_allclose(exp.values[:, j], theirs.detach().numpy(), rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_deeplift_softmax_agrees_with_captum_one_instance_at_a_time():
    """captum's softmax rule subtracts the mean over its whole batch; whylens over each
    input-reference pair, which is captum's answer for each instance alone."""
    model = seeded(SoftmaxMLP(), 22)
    x, ref = _pair((4, 5), 2)
    exp = DeepLift(model)(x, target=1, baselines=ref)
    for i in range(4):
        theirs = CAPTUM.DeepLift(model).attribute(x[i : i + 1], baselines=ref[i : i + 1],
                                                  target=1)
        np.testing.assert_allclose(exp.values[i, 0], theirs[0].detach().numpy(), rtol=0,
                                   atol=1e-6)


# ---------------------------------------------------------------- layer DeepLIFT / DeepSHAP
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("layer", ["features.0", "features.2", "head.0"])
def test_layer_deeplift_agrees_with_captum(layer):
    model = seeded(PoolCNN(size=6), 24)
    x, ref = _pair((3, 2, 6, 6), 4)
    exp = LayerDeepLift(model, layer)(x, target=1, baselines=ref)
    module = dict(model.named_modules())[layer]
    theirs = CAPTUM.LayerDeepLift(model, module).attribute(x, baselines=ref, target=1)
    np.testing.assert_allclose(exp.values[:, 0], theirs.detach().numpy(), rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_layer_deepshap_agrees_with_captum():
    model = seeded(PoolCNN(size=6), 25)
    x, _ = _pair((3, 2, 6, 6), 5)
    background = torch.randn(5, 2, 6, 6, dtype=torch.float64,
                             generator=torch.Generator().manual_seed(6))
    exp = LayerDeepShap(model, "features.2", background)(x, labels=[0, 2])
    for j, target in enumerate([0, 2]):
        theirs = CAPTUM.LayerDeepLiftShap(model, model.features[2]).attribute(
            x, baselines=background, target=target)
        np.testing.assert_allclose(exp.values[:, j], theirs.detach().numpy(), rtol=0, atol=1e-6)


# ---------------------------------------------------------------- noise tunnel over layers
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_noise_tunnel_over_layer_ig_with_zero_noise_agrees_with_captum():
    model = _tanh_cnn()
    x, base = _pair((2, 2, 5, 5), 7)
    ours = NoiseTunnel(LayerIntegratedGradients(model, "2", n_steps=8), nt_samples=3,
                       stdevs=0.0, random_state=0)(x, target=1, baselines=base)
    theirs = CAPTUM.NoiseTunnel(CAPTUM.LayerIntegratedGradients(model, model[2])).attribute(
        x, baselines=base, nt_samples=3, stdevs=0.0, target=1, n_steps=8)
    np.testing.assert_allclose(ours.values[:, 0], theirs.detach().numpy(), rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_noise_tunnel_over_layer_ig_is_the_mean_over_its_noisy_inputs():
    """Same noise: the mean of captum's LayerIG over whylens' noisy inputs; and, with
    independent noise, close to captum's NoiseTunnel within the sampling error."""
    from whylens._validation import check_random_state

    model = _tanh_cnn()
    x, _ = _pair((2, 2, 5, 5), 8)
    s, sd = 6, 0.3
    nt = NoiseTunnel(LayerIntegratedGradients(model, "2", n_steps=6), nt_samples=s,
                     stdevs=sd, random_state=5)
    ours = nt(x, target=0).values[:, 0]
    seed = int(check_random_state(5).integers(0, 2**62))
    noise = nt._noise(seed, list(range(2 * s)), (2, 5, 5), x.dtype)
    noisy = x.repeat_interleave(s, dim=0) + sd * noise
    per = CAPTUM.LayerIntegratedGradients(model, model[2]).attribute(
        noisy, target=0, n_steps=6).detach().reshape(2, s, 3, 5, 5)
    np.testing.assert_allclose(ours, per.mean(dim=1).numpy(), rtol=0, atol=1e-6)
    # statistical: 400 independent samples each; |difference| within 5 standard errors
    many = NoiseTunnel(LayerIntegratedGradients(model, "2", n_steps=6), nt_samples=400,
                       stdevs=sd, random_state=1)
    ours = many(x, target=0).values[:, 0]
    var = NoiseTunnel(LayerIntegratedGradients(model, "2", n_steps=6), nt_type="vargrad",
                      nt_samples=400, stdevs=sd, random_state=1)(x, target=0).values[:, 0]
    torch.manual_seed(0)
    theirs = CAPTUM.NoiseTunnel(CAPTUM.LayerIntegratedGradients(model, model[2])).attribute(
        x, nt_samples=400, stdevs=sd, target=0, n_steps=6).detach().numpy()
    se = np.sqrt(2 * var / 400) + 1e-12
    assert (np.abs(ours - theirs) <= 5 * se).mean() > 0.99
    assert np.abs(ours - theirs).max() < 0.2 * np.abs(ours).max()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_layer_ig_with_an_in_place_op_after_the_layer_agrees_with_captum():
    """captum raises on GapNet's ReLU(inplace=True) after features.0; on the same network
    with an out-of-place ReLU it agrees with whylens on the in-place one (to 1e-8: its
    Gauss-Legendre nodes are rounded to float32)."""
    import copy

    model = seeded(GapNet(), 4).double()
    plain = copy.deepcopy(model)
    plain.features[1].inplace = False
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ours = LayerIntegratedGradients(model, "features.0", n_steps=6)(x, target=2)
    theirs = CAPTUM.LayerIntegratedGradients(plain, plain.features[0]).attribute(
        x, target=2, n_steps=6, method="gausslegendre")
    np.testing.assert_allclose(ours.values[:, 0], theirs.detach().numpy(), rtol=0, atol=1e-8)
