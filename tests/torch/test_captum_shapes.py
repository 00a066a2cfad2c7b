"""captum's call shapes on whylens: attribute, NoiseTunnel.attribute, visualize_image_attr.

Each idiom is run as captum's code with only the import changed and compared
with captum (the bench extra) on the same inputs: equal tensors and deltas
(1e-6 on float64 models), the same shapes, dtypes and devices, the same
pictures. Skipped without captum.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
CAPTUM = pytest.importorskip("captum.attr")
from captum.attr import visualization as CAPTUM_VIZ  # noqa: E402

import whylens.torch as W  # noqa: E402
from whylens.errors import InputError, InputTypeError, NotSupportedError  # noqa: E402
from whylens.plot import visualize_image_attr  # noqa: E402

from .models import GapNet, SmallCNN, TextCNN, seeded  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _case():
    model = seeded(SmallCNN(size=5), 11)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(3, 2, 5, 5, dtype=torch.float64, generator=gen)
    base = torch.randn(3, 2, 5, 5, dtype=torch.float64, generator=gen) * 0.3
    return model, x, base


class Linear(torch.nn.Module):
    """``y = x.flatten(1) @ W``: every gradient is ``W``, whatever the noise or path."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(50, 3, bias=True)

    def forward(self, x):
        return self.fc(x.flatten(1))


def _same(ours, theirs, atol=1e-6):
    assert type(ours) is type(theirs)
    if isinstance(ours, tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _same(a, b, atol)
        return
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    assert ours.device == theirs.device
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=0, atol=atol)


# ------------------------------------------------------------- the same snippet, two imports
SNIPPETS = {
    "saliency": "Saliency(model).attribute(x, target=2)",
    "saliency_signed": "Saliency(model).attribute(x, target=2, abs=False)",
    "saliency_tuple": "Saliency(model).attribute((x,), target=torch.tensor([0, 1, 2]))",
    "inputxgradient": "InputXGradient(model).attribute(x, target=1)",
    "guidedbackprop": "GuidedBackprop(model).attribute(x, target=0)",
    "deconvolution": "Deconvolution(model).attribute(x, target=0)",
    "ig": "IntegratedGradients(model).attribute(x, base, target=2, n_steps=24, "
          "return_convergence_delta=True)",
    "ig_riemann": "IntegratedGradients(model).attribute(x, baselines=base, target=[0, 1, 2], "
                  "n_steps=16, method='riemann_right', internal_batch_size=7)",
    "ig_positional": "IntegratedGradients(model).attribute(x, base, 1, None, 20, "
                     "'riemann_left', None, True)",
    "deeplift": "DeepLift(model).attribute(x, base, target=2, return_convergence_delta=True)",
    "layer_ig": "LayerIntegratedGradients(model, model.features[0]).attribute(x, base, "
                "target=1, n_steps=12, return_convergence_delta=True)",
    "layer_deeplift": "LayerDeepLift(model, model.features[0]).attribute(x, base, target=1, "
                      "return_convergence_delta=True)",
    "layer_gradcam": "LayerGradCam(model, model.features[0]).attribute(x, target=2)",
    "layer_gradcam_relu": "LayerGradCam(model, model.features[0]).attribute("
                          "x, target=[2, 0, 1], relu_attributions=True)",
    "noisetunnel_zero_noise": "NoiseTunnel(Saliency(model)).attribute(x, nt_type='smoothgrad', "
                              "nt_samples=4, stdevs=0.0, target=1)",
    "noisetunnel_ig": "NoiseTunnel(IntegratedGradients(model)).attribute(x, "
                      "nt_type='smoothgrad_sq', nt_samples=3, stdevs=0.0, baselines=base, "
                      "target=2, n_steps=10)",
}


def _run(snippet, package, names):
    mod = __import__(package, fromlist=["_"])
    namespace = {name: getattr(mod, name) for name in names}
    model, x, base = _case()
    namespace.update(model=model, x=x, base=base, torch=torch)
    return eval(snippet, namespace)


@pytest.mark.parametrize("key", sorted(SNIPPETS))
def test_snippet_equals_captum(key):
    names = ["Saliency", "InputXGradient", "GuidedBackprop", "Deconvolution",
             "IntegratedGradients", "DeepLift", "LayerIntegratedGradients", "NoiseTunnel",
             "LayerDeepLift"]
    snippet = SNIPPETS[key]
    theirs = _run(snippet, "captum.attr", [*names, "LayerGradCam"])
    # whylens has no LayerGradCam class: its CAMs are built as GradCAM(model, layer)
    ours = _run(snippet.replace("LayerGradCam", "GradCAM"), "whylens.torch",
                [*names, "GradCAM"])
    _same(ours, theirs)
    first = ours[0] if isinstance(ours, tuple) else ours
    assert float(first.abs().max()) > 1e-3  # not trivially zero


def test_riemann_trapezoid_weights_sum_to_one_unlike_captums():
    """The one documented difference: captum's trapezoid weights sum to 1 - 1/n_steps.

    On a model linear along the path every point has the same gradient, so
    captum's values are whylens' times the sum of its weights.
    """
    _, x, base = _case()
    n = 16
    lin = seeded(Linear(), 4)
    ours = W.IntegratedGradients(lin).attribute(x, base, target=1, n_steps=n,
                                                method="riemann_trapezoid")
    theirs = CAPTUM.IntegratedGradients(lin).attribute(x, base, target=1, n_steps=n,
                                                       method="riemann_trapezoid")
    np.testing.assert_allclose(theirs.numpy(), ours.numpy() * (1 - 1 / n), atol=1e-12)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype


def test_delta_is_the_completeness_gap():
    model, x, base = _case()
    attr, delta = W.IntegratedGradients(model).attribute(x, base, target=2, n_steps=8,
                                                         return_convergence_delta=True)
    gap = model(x)[:, 2] - model(base)[:, 2]
    np.testing.assert_allclose(delta.numpy(), (attr.flatten(1).sum(1) - gap).detach().numpy(),
                               atol=1e-12)
    assert delta.shape == (3,)


def test_float32_input_gives_float32_tensors():
    model = seeded(SmallCNN(size=5), 3).float()
    x = torch.randn(2, 2, 5, 5, generator=torch.Generator().manual_seed(0))
    ours, d = W.IntegratedGradients(model).attribute(x, target=0, return_convergence_delta=True)
    theirs, dt = CAPTUM.IntegratedGradients(model).attribute(x, target=0,
                                                              return_convergence_delta=True)
    assert ours.dtype == theirs.dtype == torch.float32 and d.dtype == dt.dtype
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    np.testing.assert_allclose(d.numpy(), dt.numpy(), atol=1e-5)


@pytest.mark.parametrize("nt_type", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_noise_tunnel_with_noise_on_a_linear_model(nt_type):
    """Gradients of a linear model do not depend on the noise: equal for any draw."""
    model = seeded(Linear(), 4)
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ours = W.NoiseTunnel(W.Saliency(model)).attribute(x, nt_type=nt_type, nt_samples=6,
                                                      stdevs=1.0, target=1, abs=False)
    theirs = CAPTUM.NoiseTunnel(CAPTUM.Saliency(model)).attribute(
        x, nt_type=nt_type, nt_samples=6, stdevs=1.0, target=1, abs=False)
    _same(ours, theirs, atol=1e-9)


def test_gradient_shap_on_a_linear_model():
    """On a linear model GradientSHAP is (x - b) * w for any draw of points."""
    model = seeded(Linear(), 4)
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    base = torch.zeros(1, 2, 5, 5, dtype=torch.float64)
    ours = W.GradientShap(model).attribute(x, base, n_samples=7, target=0)
    theirs = CAPTUM.GradientShap(model).attribute(x, base, n_samples=7, target=0)
    _same(ours, theirs, atol=1e-9)


def test_deep_lift_shap_equals_captum():
    model, x, _ = _case()
    background = torch.randn(4, 2, 5, 5, dtype=torch.float64,
                             generator=torch.Generator().manual_seed(9))
    ours, d = W.DeepShap(model).attribute(x, background, target=1,
                                          return_convergence_delta=True)
    theirs = CAPTUM.DeepLiftShap(model).attribute(x, background, target=1)
    _same(ours, theirs)
    assert d.shape == (3,)


def test_layer_ig_on_token_ids_equals_captum():
    model = seeded(TextCNN(), 2)
    ids = torch.tensor([[3, 5, 7, 1, 0, 0], [2, 9, 4, 4, 8, 1]])
    ours, d = W.LayerIntegratedGradients(model, model.emb).attribute(
        ids, target=0, n_steps=20, return_convergence_delta=True)
    theirs, dt = CAPTUM.LayerIntegratedGradients(model, model.emb).attribute(
        ids, target=0, n_steps=20, return_convergence_delta=True)
    _same(ours, theirs)
    _same(d, dt)


class TwoArgs(torch.nn.Module):
    """``f(x, scale, shift) = head(features(x) * scale + shift)``: extra arguments per row."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = SmallCNN(size=5)

    def forward(self, x, scale, shift=0.0):
        return self.inner(x * scale[:, None, None, None]) + shift


@pytest.mark.parametrize("method", ["ig", "saliency", "gradcam"])
def test_additional_forward_args_equal_captum(method):
    model = seeded(TwoArgs(), 8)
    _, x, base = _case()
    scale = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    args = (scale, 0.25)
    if method == "ig":
        ours = W.IntegratedGradients(model).attribute(x, base, target=1, n_steps=10,
                                                      additional_forward_args=args)
        theirs = CAPTUM.IntegratedGradients(model).attribute(x, base, target=1, n_steps=10,
                                                              additional_forward_args=args)
    elif method == "saliency":
        ours = W.Saliency(model).attribute(x, target=0, additional_forward_args=args)
        theirs = CAPTUM.Saliency(model).attribute(x, target=0, additional_forward_args=args)
    else:
        layer = model.inner.features[0]
        ours = W.GradCAM(model, layer).attribute(x, target=2, additional_forward_args=args)
        theirs = CAPTUM.LayerGradCam(model, layer).attribute(x, target=2,
                                                              additional_forward_args=args)
    _same(ours, theirs)
    assert not model._forward_pre_hooks  # the hook that passed the arguments is gone


def test_gradcam_attribute_on_a_1d_text_cnn_layer_equals_captum():
    model = seeded(TextCNN(), 2)
    ids = torch.tensor([[3, 5, 7, 1, 0, 0], [2, 9, 4, 4, 8, 1]])
    _same(W.GradCAM(model, "conv").attribute(ids, target=1),
          CAPTUM.LayerGradCam(model, model.conv).attribute(ids, target=1))


def test_every_cam_answers_attribute_with_the_layer_map():
    model = seeded(GapNet(), 1)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for name, cls in W.CAM_METHODS.items():
        cam = cls(model, "features.2")
        maps = cam.attribute(x, target=1, relu_attributions=True)
        exp = cam(x, target=1)
        assert maps.shape == (2, 1, 4, 4), name
        np.testing.assert_allclose(maps.numpy(), exp.layer_values, atol=1e-12, err_msg=name)


def test_options_hold_for_one_call_only():
    model, x, base = _case()
    ig = W.IntegratedGradients(model, n_steps=30)
    ig.attribute(x, base, target=0, n_steps=5, method="riemann_left")
    assert ig.n_steps == 30 and ig.method == "gausslegendre"
    sal = W.Saliency(model)
    sal.attribute(x, target=0, abs=False)
    assert sal.abs is True


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda m, x, b: W.NoiseTunnel(W.Saliency(m)).attribute(x, nt_type="smoothgrad_max",
                                                             target=0), InputError, "nt_type"),
    (lambda m, x, b: W.NoiseTunnel(W.Saliency(m)).attribute(x, nt_samples=0, target=0),
     InputError, "nt_samples"),
    (lambda m, x, b: W.Saliency(m).attribute(x, target=0, n_steps=5), InputError, "n_steps"),
    (lambda m, x, b: W.Saliency(m).attribute(x, target=0, return_convergence_delta=True),
     InputError, "return_convergence_delta"),
    (lambda m, x, b: W.IntegratedGradients(m).attribute((x, x), target=0), NotSupportedError,
     "inputs"),
    (lambda m, x, b: W.IntegratedGradients(m).attribute(x, b, target=0, baselines=b),
     InputError, "baselines"),
    (lambda m, x, b: W.IntegratedGradients(m).attribute(x, target=[0, 1]), InputError,
     "target"),
    (lambda m, x, b: W.IntegratedGradients(m).attribute(x, target=0, n_steps=0), InputError,
     "n_steps"),
    (lambda m, x, b: W.NoiseTunnel(W.Saliency(m)).attribute(
        x, target=0, return_convergence_delta=True), NotSupportedError,
     "return_convergence_delta"),
    (lambda m, x, b: W.GradCAM(m, "features.0").attribute(x, target=0,
                                                           attr_dim_summation=False),
     NotSupportedError, "attr_dim_summation"),
    (lambda m, x, b: W.DeepLift(m).attribute(x, target=0, custom_attribution_func=abs),
     NotSupportedError, "custom_attribution_func"),
])
def test_bad_input(call, error, match):
    model, x, base = _case()
    with pytest.raises(error, match=match):
        call(model, x, base)


# ------------------------------------------------------------------ visualize_image_attr
def _attr_and_image():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 9, 3)), rng.uniform(size=(8, 9, 3))


@pytest.mark.parametrize("method", ["heat_map", "blended_heat_map", "original_image",
                                    "masked_image", "alpha_scaling"])
@pytest.mark.parametrize("sign", ["positive", "negative", "absolute_value", "all"])
def test_visualize_image_attr_draws_what_captum_draws(method, sign):
    if sign == "all" and method in ("masked_image", "alpha_scaling"):
        pytest.skip("captum refuses this pair too (tested below)")
    attr, image = _attr_and_image()
    fig_t, ax_t = CAPTUM_VIZ.visualize_image_attr(attr, image, method, sign, use_pyplot=False,
                                                  show_colorbar=True, title="t")
    fig_o, ax_o = visualize_image_attr(attr, image, method, sign, use_pyplot=False,
                                       show_colorbar=True, title="t")
    assert len(ax_o.images) == len(ax_t.images) >= 1
    for ours, theirs in zip(ax_o.images, ax_t.images, strict=True):
        np.testing.assert_array_equal(np.asarray(ours.get_array()),
                                      np.asarray(theirs.get_array()))
        assert ours.cmap.name == theirs.cmap.name
        assert ours.get_alpha() == theirs.get_alpha()
        assert ours.get_clim() == theirs.get_clim()
    assert len(fig_o.axes) == len(fig_t.axes)
    assert ax_o.get_title() == "t"


def test_visualize_image_attr_takes_a_tensor_and_keeps_the_axes_given():
    from matplotlib.figure import Figure

    attr, _ = _attr_and_image()
    fig = Figure()
    ax = fig.subplots()
    got = visualize_image_attr(torch.from_numpy(attr), plt_fig_axis=(fig, ax), sign="all")
    assert got == (fig, ax)
    expected = np.clip(attr.sum(2) / CAPTUM_VIZ._cumulative_sum_threshold(
        np.abs(attr.sum(2)), 98), -1, 1)
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), expected)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"method": "heatmap"}, InputError, "method"),
    ({"sign": "pos"}, InputError, "sign"),
    ({"method": "blended_heat_map", "original_image": None}, InputError, "original_image"),
    ({"method": "masked_image", "sign": "all"}, InputError, "sign"),
    ({"original_image": np.zeros((4, 4, 3))}, InputError, "original_image"),
    ({"attr": np.zeros((2, 2, 2, 2))}, InputError, "attr"),
    ({"attr": [[1.0]]}, InputTypeError, "attr"),
    ({"attr": np.zeros((8, 9, 3))}, InputError, "attr"),
])
def test_visualize_image_attr_bad_input(kwargs, error, match):
    attr, image = _attr_and_image()
    args = {"attr": attr, "original_image": image, "use_pyplot": False, **kwargs}
    with pytest.raises(error, match=match):
        visualize_image_attr(**args)
