"""pytorch-grad-cam's call shapes on whylens: target_layers, targets, the [0, 1] maps, ViTs.

pytorch-grad-cam (``grad-cam`` 1.5.7) imports torchvision and OpenCV, which
the project does not install (a second torch). The formula tests use
:func:`pgc_reference`, a transcription of its ``BaseCAM.forward`` (hooks on
each target layer, ``loss = sum(target(output))``, one backward, per-layer
``get_cam_image`` -> ReLU -> ``scale_cam_image`` to the input size, then the
mean over layers scaled again; ``cv2.resize``'s INTER_LINEAR is
``F.interpolate(bilinear, align_corners=False)``) with its weight formulas
(``grad_cam.py``, ``grad_cam_plusplus.py``, ``hirescam.py``,
``layer_cam.py``); :func:`test_equals_pytorch_grad_cam_itself` compares
with the package itself (installed with ``--no-deps``, imported with the
benchmark's stand-ins for its unused import-time modules).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

import whylens.torch as W  # noqa: E402
from torch import nn  # noqa: E402
from whylens.errors import InputError, InputTypeError, NotSupportedError  # noqa: E402
from whylens.plot import show_cam_on_image  # noqa: E402
from whylens.torch.targets import (  # noqa: E402
    BinaryClassifierOutputTarget,
    ClassifierOutputSoftmaxTarget,
    ClassifierOutputTarget,
    SemanticSegmentationTarget,
)

from .models import seeded  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class Net(nn.Module):
    """conv -> ReLU -> conv (stride 2) -> ReLU -> GAP -> Linear; no in-place ops (see below)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1, stride=2)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        a = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.head(a.mean(dim=(2, 3)))


class SegNet(nn.Module):
    """A fully convolutional segmenter: (n, 3, H, W) -> (n, 3 classes, H, W)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 5, 3, padding=1)
        self.conv2 = nn.Conv2d(5, 3, 1)

    def forward(self, x):
        return self.conv2(torch.relu(self.conv1(x)))


class Block(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    """Patches 4x4 of a 16x16 image (a 4x4 grid), a class token, two blocks, a head on it."""

    def __init__(self, dim: int = 8, n_classes: int = 3) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, stride=4)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, 17, dim))
        self.blocks = nn.Sequential(Block(dim), Block(dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        t = self.patch(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(len(x), -1, -1), t], dim=1) + self.pos
        return self.head(self.norm(self.blocks(t))[:, 0])


def _float(model, seed):
    return seeded(model, seed).float().eval()


def _images(n=3, size=12, seed=1):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------ the reference
def _weights(method, a, g):
    if method == "gradcam":
        return (g.mean(axis=(2, 3))[:, :, None, None] * a).sum(axis=1)
    if method == "gradcam++":
        g2 = g**2
        g3 = g2 * g
        total = a.sum(axis=(2, 3))[:, :, None, None]
        aij = np.where(g != 0, g2 / (2 * g2 + total * g3 + 0.000001), 0)
        w = (np.maximum(g, 0) * aij).sum(axis=(2, 3))
        return (w[:, :, None, None] * a).sum(axis=1)
    if method == "hirescam":
        return (g * a).sum(axis=1)
    if method == "layercam":
        return (np.maximum(g, 0) * a).sum(axis=1)
    raise AssertionError(method)


def _scale(cam, size=None):
    out = []
    for img in cam:
        img = img - np.min(img)
        img = img / (1e-7 + np.max(img))
        if size is not None:
            img = F.interpolate(torch.from_numpy(np.float32(img))[None, None], size=size,
                                mode="bilinear", align_corners=False)[0, 0].numpy()
        out.append(img)
    return np.float32(out)


def pgc_reference(method, model, layers, x, targets, reshape_transform=None):
    """pytorch-grad-cam's BaseCAM.forward for a gradient CAM (see the module docstring)."""
    acts, grads, handles = [], [], []

    def save(_m, _i, out):
        a = out if reshape_transform is None else reshape_transform(out)
        acts.append(a.detach().clone())

        def keep(g):
            grads.insert(0, (g if reshape_transform is None else reshape_transform(g)).detach())

        out.register_hook(keep)

    for layer in layers:
        handles.append(layer.register_forward_hook(save))
    try:
        x = x.clone().requires_grad_(True)
        outputs = model(x)
        if targets is None:
            targets = [ClassifierOutputTarget(int(c)) for c in outputs.argmax(-1)]
        loss = sum(t(o) for t, o in zip(targets, outputs, strict=True))
        loss.backward()
    finally:
        for h in handles:
            h.remove()
    per_layer = []
    for a, g in zip(acts, grads, strict=True):
        cam = np.maximum(_weights(method, a.numpy(), g.numpy()), 0)
        per_layer.append(_scale(cam, tuple(x.shape[-2:]))[:, None])
    result = np.maximum(np.concatenate(per_layer, axis=1), 0).mean(axis=1)
    return _scale(result)


GRADIENT_CAMS = {"gradcam": W.GradCAM, "gradcam++": W.GradCAMPlusPlus,
                 "hirescam": W.HiResCAM, "layercam": W.LayerCAM}


# ------------------------------------------------------------------ equality with the formulas
@pytest.mark.parametrize("method", sorted(GRADIENT_CAMS))
@pytest.mark.parametrize("layers", ["one", "two"])
def test_readme_snippet_equals_pytorch_grad_cams_formulas(method, layers):
    model = _float(Net(), 3)
    x = _images()
    target_layers = [model.conv2] if layers == "one" else [model.conv1, model.conv2]
    targets = [ClassifierOutputTarget(1), ClassifierOutputTarget(3), ClassifierOutputTarget(0)]
    # pytorch-grad-cam's README, with only the import changed
    with GRADIENT_CAMS[method](model=model, target_layers=target_layers) as cam:
        grayscale_cam = cam(input_tensor=x, targets=targets)
    expected = pgc_reference(method, model, target_layers, x, targets)
    assert grayscale_cam.dtype == np.float32 and grayscale_cam.shape == (3, 12, 12)
    np.testing.assert_allclose(grayscale_cam, expected, rtol=0, atol=2e-6)
    assert np.allclose(grayscale_cam.max(axis=(1, 2)), 1, atol=1e-6)
    assert grayscale_cam.min() >= 0
    assert cam.outputs.shape == (3, 4)


@pytest.mark.parametrize("targets", ["none", "softmax", "binary", "positional"])
def test_targets_equal_the_formulas(targets):
    model = _float(Net(), 5)
    x = _images(seed=4)
    cam = W.GradCAM(model, [model.conv2])
    if targets == "none":
        got, objs = cam(input_tensor=x), None
    elif targets == "softmax":
        objs = [ClassifierOutputSoftmaxTarget(k) for k in (2, 2, 1)]
        got = cam(input_tensor=x, targets=objs)
    elif targets == "binary":
        objs = [BinaryClassifierOutputTarget(k) for k in (1, 0, 1)]
        one = _float(nn.Sequential(Net(), nn.Linear(4, 1), nn.Flatten(0)), 6)
        cam = W.GradCAM(one, [one[0].conv2])
        got = cam(x, objs)
        np.testing.assert_allclose(got, pgc_reference("gradcam", one, [one[0].conv2], x, objs),
                                   atol=2e-6)
        return
    else:
        objs = [ClassifierOutputTarget(k) for k in (0, 1, 2)]
        got = cam(x, objs)  # cam(input_tensor, targets) by position
    np.testing.assert_allclose(got, pgc_reference("gradcam", model, [model.conv2], x, objs),
                               atol=2e-6)


def test_semantic_segmentation_target_equals_the_formula():
    model = _float(SegNet(), 2)
    x = _images(n=2, size=8)
    mask = np.zeros((8, 8), dtype=np.float32)
    mask[2:5, 3:7] = 1
    targets = [SemanticSegmentationTarget(1, mask), SemanticSegmentationTarget(2, mask)]
    for cls in (W.GradCAM, W.LayerCAM):
        got = cls(model=model, target_layers=[model.conv1])(input_tensor=x, targets=targets)
        method = "gradcam" if cls is W.GradCAM else "layercam"
        np.testing.assert_allclose(
            got, pgc_reference(method, model, [model.conv1], x, targets), atol=2e-6)


def test_score_and_eigen_cams_give_maps_scaled_per_image():
    model = _float(Net(), 3)
    x = _images()
    for cls in (W.ScoreCAM, W.AblationCAM, W.EigenCAM):
        with cls(model=model, target_layers=[model.conv2]) as cam:
            maps = cam(input_tensor=x, targets=[ClassifierOutputTarget(1)] * 3)
        exp = cls(model, model.conv2)(x, target=1)
        layer = torch.from_numpy(exp.layer_values[:, 0])
        expected = _scale(_scale(np.maximum(layer.numpy(), 0), (12, 12)))
        np.testing.assert_allclose(maps, expected, atol=2e-6, err_msg=cls.__name__)


def test_score_cam_with_a_softmax_target_uses_the_target_on_every_masked_input():
    model = _float(Net(), 3)
    x = _images(n=2)
    objs = [ClassifierOutputSoftmaxTarget(1), ClassifierOutputSoftmaxTarget(2)]
    maps = W.ScoreCAM(model, [model.conv2])(input_tensor=x, targets=objs)
    # by hand: channel weights = softmax over channels of p_label(x * mask_k)
    acts = {}
    h = model.conv2.register_forward_hook(lambda m, i, o: acts.setdefault("a", o.detach()))
    with torch.no_grad():
        model(x)
    h.remove()
    a = acts["a"]
    up = F.interpolate(a, size=(12, 12), mode="bilinear", align_corners=True)
    lo = up.flatten(2).amin(2)[..., None, None]
    hi = up.flatten(2).amax(2)[..., None, None]
    masks = (up - lo) / (hi - lo)
    cams = []
    for i in range(2):
        with torch.no_grad():
            p = torch.softmax(model(x[i][None] * masks[i][:, None]), dim=-1)[:, 1 + i]
        w = torch.softmax(p, dim=0)
        cams.append((w[:, None, None] * a[i]).sum(0).numpy())
    expected = _scale(_scale(np.maximum(np.array(cams), 0), (12, 12)))
    np.testing.assert_allclose(maps, expected, atol=1e-5)


def test_aug_smooth_is_the_mean_over_flips_and_brightness():
    model = _float(Net(), 3)
    x = _images(n=2)
    cam = W.GradCAM(model=model, target_layers=[model.conv2])
    got = cam(input_tensor=x, targets=None, aug_smooth=True)
    parts = []
    for flip in (False, True):
        for f in (0.9, 1.0, 1.1):
            xa = (x.flip(-1) if flip else x) * f
            m = pgc_reference("gradcam", model, [model.conv2], xa, None)
            parts.append(m[..., ::-1] if flip else m)
    np.testing.assert_allclose(got, np.mean(parts, axis=0), atol=2e-6)


def _pytorch_grad_cam():
    """pytorch-grad-cam's package, imported as ``benchmarks/bench_cam.py`` does.

    ``grad-cam`` is installed with ``--no-deps`` (its dependencies would pull
    torchvision and a second torch); the import-time modules it needs but the
    compared code never calls (torchvision, cv2) are the benchmark's stand-ins,
    registered only for the import and removed from ``sys.modules`` after it.
    cv2's stand-in ``resize`` (bilinear, pixel centres aligned) is the only one
    the CAM path calls.
    """
    import importlib.util
    import sys
    from pathlib import Path

    if importlib.util.find_spec("pytorch_grad_cam") is None:
        pytest.skip("grad-cam is not installed (pip install --no-deps grad-cam ttach)")
    try:
        import pytorch_grad_cam
        import pytorch_grad_cam.utils.model_targets as targets
        return pytorch_grad_cam, targets
    except ImportError:
        pass
    bench = str(Path(__file__).resolve().parents[2] / "benchmarks")
    before = set(sys.modules)
    sys.path.insert(0, bench)
    try:
        import _pgc_stubs

        _pgc_stubs.install()
        import pytorch_grad_cam
        import pytorch_grad_cam.utils.model_targets as targets
    finally:
        sys.path.remove(bench)
        for name in set(sys.modules) - before:  # no stand-in stays for other tests
            if name.split(".")[0] in ("cv2", "torchvision", "_pgc_stubs"):
                del sys.modules[name]
    return pytorch_grad_cam, targets


@pytest.mark.parametrize("method", sorted(GRADIENT_CAMS))
def test_equals_pytorch_grad_cam_itself(method):
    pgc, targets_mod = _pytorch_grad_cam()
    theirs_cls = {"gradcam": pgc.GradCAM, "gradcam++": pgc.GradCAMPlusPlus,
                  "hirescam": pgc.HiResCAM, "layercam": pgc.LayerCAM}[method]
    model = _float(Net(), 3)
    x = _images()
    targets = [targets_mod.ClassifierOutputTarget(k) for k in (1, 2, 3)]
    with theirs_cls(model=model, target_layers=[model.conv1, model.conv2]) as theirs:
        expected = theirs(input_tensor=x, targets=targets)
    with GRADIENT_CAMS[method](model=model, target_layers=[model.conv1, model.conv2]) as ours:
        got = ours(input_tensor=x, targets=[ClassifierOutputTarget(k) for k in (1, 2, 3)])
    # Maps in [0, 1]; pytorch-grad-cam computes in float32 numpy (Grad-CAM++'s second and
    # third powers of the gradients reach 4e-6 of float32 rounding), whylens in float64.
    np.testing.assert_allclose(got, expected, atol=1e-5)


# ------------------------------------------------------------------ vision transformers
def test_vit_reshape_transform_cams_and_feature_maps():
    model = _float(TinyViT(), 7)
    x = _images(n=2, size=16, seed=3)
    layer = model.blocks[-1].norm1
    targets = [ClassifierOutputTarget(2), ClassifierOutputTarget(0)]
    for method, cls in GRADIENT_CAMS.items():
        with cls(model=model, target_layers=[layer],
                 reshape_transform=W.vit_reshape_transform) as cam:
            got = cam(input_tensor=x, targets=targets)
        expected = pgc_reference(method, model, [layer], x, targets,
                                 reshape_transform=W.vit_reshape_transform)
        assert got.shape == (2, 16, 16)
        np.testing.assert_allclose(got, expected, atol=2e-6, err_msg=method)
    # whylens' own call on the grid: values (n, 1, 16, 16), layer map on the 4x4 patches
    exp = W.GradCAM(model, layer, reshape_transform=W.vit_reshape_transform)(x, target=2)
    assert exp.values.shape == (2, 1, 16, 16) and exp.layer_values.shape == (2, 1, 4, 4)
    fm = W.feature_maps(model, x, layer, reshape_transform=W.vit_reshape_transform)
    tokens = {}
    h = layer.register_forward_hook(lambda m, i, o: tokens.setdefault("t", o.detach()))
    with torch.no_grad():
        model(x)
    h.remove()
    grid = tokens["t"][:, 1:].reshape(2, 4, 4, 8).permute(0, 3, 1, 2)
    np.testing.assert_allclose(fm.values, grid.numpy()[:, fm.labels], atol=1e-6)
    assert fm.values.shape == (2, 8, 4, 4)


def test_vit_reshape_transform_grids():
    t = torch.arange(2 * 17 * 3, dtype=torch.float32).reshape(2, 17, 3)
    g = W.vit_reshape_transform(t)
    assert g.shape == (2, 3, 4, 4)
    assert torch.equal(g[1, :, 0, 1], t[1, 2])  # patch (0, 1) is token 2
    assert W.vit_reshape_transform(t[:, :13], height=3, width=4).shape == (2, 3, 3, 4)
    assert W.swint_reshape_transform(t[:, 1:]).shape == (2, 3, 4, 4)
    with pytest.raises(InputError, match="grid"):
        W.vit_reshape_transform(t[:, :12])


# ------------------------------------------------------------------ show_cam_on_image
def test_show_cam_on_image_known_colours():
    img = np.zeros((2, 3, 3), dtype=np.float32)
    mask = np.zeros((2, 3), dtype=np.float32)
    # jet(0) is dark blue (0, 0, 0.5); over a black image, scaled by its max: pure blue
    rgb = show_cam_on_image(img, mask, use_rgb=True)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 3, 3)
    assert (rgb == [0, 0, 255]).all()
    assert (show_cam_on_image(img, mask) == [255, 0, 0]).all()  # BGR by default, as pgc
    assert (show_cam_on_image(img, mask, colormap=2) == rgb[..., ::-1]).all()  # cv2's JET


def test_show_cam_on_image_blend_formula():
    import matplotlib

    rng = np.random.default_rng(0)
    img = rng.uniform(size=(5, 6, 3)).astype(np.float32)
    mask = rng.uniform(size=(5, 6)).astype(np.float32)
    got = show_cam_on_image(img, mask, use_rgb=True, image_weight=0.3)
    heat = np.float32(np.round(matplotlib.colormaps["jet"](np.uint8(255 * mask))[..., :3]
                               * 255)) / 255
    cam = 0.7 * heat + 0.3 * img
    np.testing.assert_array_equal(got, np.uint8(255 * (cam / cam.max())))


# ------------------------------------------------------------------ side effects, bad input
def test_no_hook_left_and_flags_restored():
    model = _float(Net(), 3).train()
    with W.GradCAM(model=model, target_layers=[model.conv1, model.conv2]) as cam:
        cam(input_tensor=_images(), targets=[ClassifierOutputTarget(0)] * 3)
    assert model.training and all(m.training for m in model.modules())
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_an_exception_in_the_block_propagates():
    model = _float(Net(), 3)
    with pytest.raises(IndexError), W.GradCAM(model=model, target_layers=[model.conv2]):
        raise IndexError("pytorch-grad-cam prints and swallows this one; whylens does not")


def test_the_positional_whylens_call_still_returns_an_explanation():
    model = _float(Net(), 3)
    exp = W.GradCAM(model, "conv2")(_images(), target=1)
    assert exp.values.shape == (3, 1, 12, 12)
    same = W.GradCAM(model, model.conv2)(input_tensor=_images(),
                                         targets=[ClassifierOutputTarget(1)] * 3)
    np.testing.assert_allclose(same, _scale(_scale(exp.layer_values[:, 0], (12, 12))),
                               atol=2e-6)


def _bad(case):
    model = _float(Net(), 3)
    x = _images()
    other = nn.Conv2d(3, 3, 1)
    calls = {
        "layer_not_in_model": lambda: W.GradCAM(model=model, target_layers=[other]),
        "layer_name_unknown": lambda: W.GradCAM(model=model, target_layers=["conv9"]),
        "empty_layers": lambda: W.GradCAM(model=model, target_layers=[]),
        "layer_and_target_layers": lambda: W.GradCAM(model, "conv1", target_layers=[model.conv2]),
        "targets_too_few": lambda: W.GradCAM(model=model, target_layers=[model.conv2])(
            input_tensor=x, targets=[ClassifierOutputTarget(1)]),
        "targets_not_a_list": lambda: W.GradCAM(model=model, target_layers=[model.conv2])(
            input_tensor=x, targets=ClassifierOutputTarget(1)),
        "target_not_callable": lambda: W.GradCAM(model=model, target_layers=[model.conv2])(
            input_tensor=x, targets=["cat"] * 3),
        "target_out_of_range": lambda: W.GradCAM(model=model, target_layers=[model.conv2])(
            input_tensor=x, targets=[ClassifierOutputTarget(9)] * 3),
        "target_and_targets": lambda: W.GradCAM(model, "conv2")(x, 1, targets=[0, 1, 2]),
        "eigen_smooth": lambda: W.GradCAM(model=model, target_layers=[model.conv2])(
            input_tensor=x, eigen_smooth=True),
        "reshape_not_callable": lambda: W.GradCAM(model, "conv2", reshape_transform=3),
        "reshape_bad_output": lambda: W.GradCAM(model, "conv2",
                                                reshape_transform=lambda t: t.sum())(x),
        "ablation_with_reshape": lambda: W.AblationCAM(
            model, "conv2", reshape_transform=lambda t: t)(x),
        "image_above_one": lambda: show_cam_on_image(np.full((2, 2, 3), 2.0),
                                                     np.zeros((2, 2))),
        "mask_shape": lambda: show_cam_on_image(np.zeros((2, 2, 3)), np.zeros((3, 2))),
        "image_weight": lambda: show_cam_on_image(np.zeros((2, 2, 3)), np.zeros((2, 2)),
                                                  image_weight=1.5),
        "colormap": lambda: show_cam_on_image(np.zeros((2, 2, 3)), np.zeros((2, 2)),
                                              colormap="nocolours"),
        "category": lambda: ClassifierOutputTarget("cat"),
        "seg_mask": lambda: SemanticSegmentationTarget(1, np.zeros(3)),
    }
    return calls[case]


@pytest.mark.parametrize(("case", "error", "match"), [
    ("layer_not_in_model", InputError, "layer"),
    ("layer_name_unknown", InputError, "conv9"),
    ("empty_layers", InputTypeError, "target_layers"),
    ("layer_and_target_layers", InputError, "target_layers"),
    ("targets_too_few", InputError, "one target per image"),
    ("targets_not_a_list", InputTypeError, "targets"),
    ("target_not_callable", InputTypeError, "targets"),
    ("target_out_of_range", InputError, "target"),
    ("target_and_targets", InputError, "targets"),
    ("eigen_smooth", NotSupportedError, "eigen_smooth"),
    ("reshape_not_callable", InputTypeError, "reshape_transform"),
    ("reshape_bad_output", InputError, "reshape_transform"),
    ("ablation_with_reshape", NotSupportedError, "reshape_transform"),
    ("image_above_one", InputError, "img"),
    ("mask_shape", InputError, "mask"),
    ("image_weight", InputError, "image_weight"),
    ("colormap", InputError, "colormap"),
    ("category", InputTypeError, "category"),
    ("seg_mask", InputError, "mask"),
])
def test_bad_input(case, error, match):
    with pytest.raises(error, match=match):
        _bad(case)()
