"""The workbench's trust figure (whylens.app._trust.trust_meta): known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from whylens.app._trust import _squares, trust_meta  # noqa: E402
from whylens.app._vision import VisionModel  # noqa: E402
from whylens.errors import InputError, InputTypeError, NotSupportedError  # noqa: E402
from whylens.explanation import Explanation, Features  # noqa: E402
from whylens.metrics import deletion, insertion  # noqa: E402
from whylens.models import as_model  # noqa: E402
from whylens.plot._image import heat_map  # noqa: E402
from whylens.torch import GradCAM, LayerGradientShap, feature_maps  # noqa: E402

SIZE = 32
TARGET = 1


class PatchNet(torch.nn.Module):
    """Class 1 sees bright regions: ``logit_1 = 200 * mean(avgpool2(relu(box3x3(x) - 0.5)))``,
    ``logit_0 = 0`` (``box3x3``: the mean over a 3 x 3 window and the channels)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 1, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.fill_(1.0 / 27.0)
            self.conv.bias.fill_(-0.5)
        self.relu = torch.nn.ReLU()
        self.down = torch.nn.AvgPool2d(2)  # a layer at half the input's resolution
        self.pool = torch.nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        a = 200.0 * self.pool(self.down(self.relu(self.conv(x)))).flatten(1)
        return torch.cat([torch.zeros_like(a), a], dim=1)


def _image() -> np.ndarray:
    """A dark image with one bright 8 x 8 patch (class 1's evidence)."""
    img = np.full((SIZE, SIZE, 3), 0.1, np.float32)
    img[4:12, 20:28] = 0.9
    return img


def _x(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)[None]))


@pytest.fixture(scope="module")
def net():
    return PatchNet().eval()


@pytest.fixture(scope="module")
def cam(net):
    return GradCAM(net, "relu")(_x(_image()), target=TARGET, progress=False)


def test_gradcam_of_the_patch_beats_the_random_control(net, cam):
    """Grad-CAM marks the patch; bringing its squares back first restores class 1 at once,
    removing them first loses it at once: both curves beat every random ordering."""
    meta = trust_meta(net, _image(), cam, TARGET, steps=16, n_random=5, grid=8)
    ins, dele = meta["insertion"], meta["deletion"]
    # the patch is 4 of the 64 squares: after the first step (4 squares) it is all back
    # (p at least as at the image) / all gone (blurred below the threshold: logit 0, p = 1/2)
    assert ins["curve"][0] == 0.5 and ins["curve"][1] >= meta["probability"] > 0.95
    assert dele["curve"][1] == 0.5
    assert ins["score"] > ins["random"]["mean"] + 3 * ins["random"]["std"]
    assert dele["score"] < dele["random"]["mean"] - 3 * dele["random"]["std"]
    assert ins["vs_random"] > 0.05 and dele["vs_random"] > 0.05
    assert ins["higher_is_better"] is True and dele["higher_is_better"] is False


def test_pixels_equal_a_direct_metrics_call(net, cam):
    """grid=None: the same numbers as whylens.metrics on the panel's (H, W) map, with the
    smooth control at half the CAM layer's cell (relu: 32 x 32, one pixel)."""
    meta = trust_meta(net, _image(), cam, TARGET, steps=10, n_random=3, grid=None)
    assert meta["control"] == {"kind": "smooth", "sigma": 0.5, "scale": "layer 32x32"}
    x = _x(_image()).numpy()
    model = as_model(net, output="probability")
    for name, metric in (("deletion", deletion), ("insertion", insertion)):
        direct = metric(model, heat_map(cam)[None], x, target=[TARGET], baseline="blur",
                        steps=10, n_random=3, random_state=0, control="smooth",
                        control_sigma=0.5)
        assert meta[name]["params"]["control"] == "smooth"
        assert meta[name]["params"]["control_sigma"] == 0.5
        assert meta[name]["score"] == direct.score
        assert meta[name]["random"]["mean"] == direct.random.mean
        np.testing.assert_allclose(meta[name]["curve"], direct.curves[0, 0], atol=1e-6)


def test_grid_equals_a_direct_metrics_call_on_square_means(net, cam):
    """grid=g: the metrics on one value per square (the map's mean over it, here by reshape)."""
    g, side = 4, SIZE // 4
    meta = trust_meta(net, _image(), cam, TARGET, steps=8, n_random=3, grid=g)
    means = heat_map(cam).reshape(g, side, g, side).mean(axis=(1, 3)).reshape(-1)
    squares = np.kron(np.arange(g * g).reshape(g, g), np.ones((side, side), np.int64))
    exp = Explanation(values=means[None, None], labels=np.array([TARGET]), method="test",
                      features=Features(kind="image", names=[str(j) for j in range(g * g)],
                                        segments=squares[None]))
    x = _x(_image()).numpy()
    model = as_model(net, output="probability")
    sigma = meta["control"]["sigma"]
    assert sigma == g / SIZE / 2  # the CAM's 32 x 32 cells: an eighth of a square
    for name, metric in (("deletion", deletion), ("insertion", insertion)):
        direct = metric(model, exp, x, baseline="blur", steps=8, n_random=3, random_state=0,
                        control="smooth", control_sigma=sigma)
        assert meta[name]["score"] == pytest.approx(direct.score, abs=1e-12)
        assert meta[name]["random"]["mean"] == pytest.approx(direct.random.mean, abs=1e-12)


def test_squares_are_row_major_and_cover_any_size():
    np.testing.assert_array_equal(_squares((4, 4), 2), [[0, 0, 1, 1], [0, 0, 1, 1],
                                                        [2, 2, 3, 3], [2, 2, 3, 3]])
    ids = _squares((7, 5), 3)
    assert sorted(np.unique(ids).tolist()) == list(range(9))


def test_json_ready_with_the_evaluation_count(net, cam):
    steps, n_random = 6, 2
    meta = trust_meta(net, _image(), cam, TARGET, steps=steps, n_random=n_random, grid=8)
    assert json.loads(json.dumps(meta)) == meta
    assert meta["n_evals"] == 2 * (steps + 1) * (1 + n_random) + 1
    assert len(meta["fractions"]) == len(meta["insertion"]["curve"]) == steps + 1
    assert meta["fractions"][0] == 0.0 and meta["fractions"][-1] == 1.0
    p = torch.softmax(net(_x(_image())), dim=1)[0, TARGET].item()
    assert meta["probability"] == pytest.approx(p, abs=1e-6)
    # the insertion curve ends at the image, the deletion curve starts there
    assert meta["insertion"]["curve"][-1] == pytest.approx(p, abs=1e-5)
    assert meta["deletion"]["curve"][0] == pytest.approx(p, abs=1e-5)


def test_served_model_and_stored_image_give_the_same_figures(net, cam):
    served = VisionModel(net, size=SIZE, labels=["dark", "bright"],
                         images={"patch": _image()})
    stored = served.bundled[0]
    a = trust_meta(served, stored, cam, TARGET, steps=8, n_random=2)
    b = trust_meta(net, stored.pixels, cam, TARGET, steps=8, n_random=2)
    for name in ("deletion", "insertion"):
        assert a[name]["score"] == b[name]["score"]


def test_layer_attribution_is_upsampled_and_scored(net):
    """Layer Gradient SHAP at half resolution (16 x 16) marks the patch too."""
    exp = LayerGradientShap(net, "down", n_samples=4, random_state=0)(
        _x(_image()), target=TARGET, baselines=torch.zeros((1, 3, SIZE, SIZE)),
        progress=False)
    assert np.shape(exp.values)[-2:] == (SIZE // 2, SIZE // 2)
    meta = trust_meta(net, _image(), exp, TARGET, steps=16, n_random=5, grid=8)
    ins = meta["insertion"]
    assert ins["score"] > ins["random"]["mean"] + 3 * ins["random"]["std"]


def test_the_model_is_left_as_it_was(cam):
    model = PatchNet().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trust_meta(model, _image(), cam, TARGET, steps=4, n_random=1)
    assert model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


@pytest.mark.parametrize("change, error, fragment", [
    ({"model": object()}, InputTypeError, "model"),
    ({"image": np.zeros((SIZE, SIZE))}, InputError, "image"),
    ({"explanation": np.zeros((SIZE, SIZE))}, InputTypeError, "explanation"),
    ({"target": "bright"}, InputTypeError, "target"),
    ({"target": 2}, InputError, "target"),
    ({"grid": SIZE + 1}, InputError, "grid"),
    ({"steps": 0}, InputError, "steps"),
    ({"steps": 65, "grid": 8}, InputError, "steps"),
    ({"control": "smooth"}, InputError, "control"),
])
def test_bad_arguments_name_the_argument(net, cam, change, error, fragment):
    args = {"model": net, "image": _image(), "explanation": cam, "target": TARGET}
    args.update(change)
    kwargs = {k: args.pop(k) for k in ("grid", "steps", "control") if k in args}
    with pytest.raises(error, match=fragment):
        trust_meta(args["model"], args["image"], args["explanation"], args["target"],
                   **kwargs)


def test_feature_maps_and_token_maps_are_not_scored(net, cam):
    fmaps = feature_maps(net, _x(_image()), "conv")
    with pytest.raises(NotSupportedError, match="explanation"):
        trust_meta(net, _image(), fmaps, TARGET)
    tokens = Explanation(values=np.zeros((1, 1, 5, 7)), labels=np.array([TARGET]),
                         method="torch.layer_gradient_shap",
                         features=Features(kind="image", names=[]))
    with pytest.raises(NotSupportedError, match="explanation"):
        trust_meta(net, _image(), tokens, TARGET)


def test_lime_segments_are_painted_and_scored(net):
    """LIME on 8 x 8 px segments: the four the patch overlaps lead; insertion beats chance."""
    from whylens.lime import LimeImageExplainer

    blocks = np.kron(np.arange(16).reshape(4, 4), np.ones((8, 8), np.int64))
    exp = LimeImageExplainer(random_state=0).explain_instance(
        _image(), net, target=TARGET, num_samples=200, segmentation_fn=lambda _: blocks,
        progress=False)
    assert set(np.argsort(-np.asarray(exp.values)[0, 0])[:4].tolist()) == {2, 3, 6, 7}
    meta = trust_meta(net, _image(), exp, TARGET, steps=16, n_random=5, grid=8)
    # the patch comes back within its four segments' 16 squares: later than Grad-CAM's 4
    assert meta["insertion"]["vs_random"] > 0.1 and meta["deletion"]["vs_random"] > 0.1


def test_the_control_is_matched_to_where_the_map_comes_from(net):
    """sigma = half the side of the map's own cell in squares for layer maps (CAMs, layer
    attributions), 0.35 of a segment's side for LIME, i.i.d. squares for pixel maps."""
    from whylens.app._trust import _matched_control
    from whylens.lime import LimeImageExplainer

    x, shape = _x(_image()), (SIZE, SIZE)
    cam_down = GradCAM(net, "down")(x, target=TARGET, progress=False)  # a 16 x 16 layer
    assert _matched_control(cam_down, shape, 8) == {"kind": "smooth", "sigma": 0.25,
                                                     "scale": "layer 16x16"}
    assert _matched_control(cam_down, shape, None)["sigma"] == 1.0  # 2 pixels a cell
    shap = LayerGradientShap(net, "down", n_samples=2, random_state=0)(
        x, target=TARGET, baselines=torch.zeros((1, 3, SIZE, SIZE)), progress=False)
    assert _matched_control(shap, shape, 4) == {"kind": "smooth", "sigma": 0.125,
                                                 "scale": "layer 16x16"}
    blocks = np.kron(np.arange(16).reshape(4, 4), np.ones((8, 8), np.int64))
    lime = LimeImageExplainer(random_state=0).explain_instance(
        _image(), net, target=TARGET, num_samples=20, segmentation_fn=lambda _: blocks,
        progress=False)
    # a segment is 8 x 8 pixels, 2 x 2 squares of a 8 x 8 grid
    assert _matched_control(lime, shape, 8) == {"kind": "smooth", "sigma": 0.7,
                                                "scale": "16 segments"}
    pixels = Explanation(values=np.ones((1, 1, SIZE, SIZE)), labels=np.array([TARGET]),
                         method="torch.integrated_gradients",
                         features=Features(kind="image", names=[]))
    assert _matched_control(pixels, shape, 8) == {"kind": "iid", "sigma": None,
                                                  "scale": "pixels"}
    meta = trust_meta(net, _image(), pixels, TARGET, steps=4, n_random=2, grid=8)
    assert meta["control"]["kind"] == "iid"
    assert meta["deletion"]["params"]["control"] == "iid"
    assert meta["deletion"]["params"]["control_sigma"] is None


def test_iid_on_request_equals_the_metrics_default(net, cam):
    meta = trust_meta(net, _image(), cam, TARGET, steps=8, n_random=3, grid=4, control="iid")
    assert meta["control"] == {"kind": "iid", "sigma": None, "scale": None}
    g, side = 4, SIZE // 4
    means = heat_map(cam).reshape(g, side, g, side).mean(axis=(1, 3)).reshape(-1)
    squares = np.kron(np.arange(g * g).reshape(g, g), np.ones((side, side), np.int64))
    exp = Explanation(values=means[None, None], labels=np.array([TARGET]), method="test",
                      features=Features(kind="image", names=[str(j) for j in range(g * g)],
                                        segments=squares[None]))
    direct = deletion(as_model(net, output="probability"), exp, _x(_image()).numpy(),
                      steps=8, n_random=3, random_state=0)
    assert meta["deletion"]["random"]["mean"] == pytest.approx(direct.random.mean, abs=1e-12)


def test_gradcam_on_the_embedded_espresso_beats_its_matched_control_on_deletion():
    """EfficientNet-Lite0 (fixed ImageNet weights) on scikit-image's coffee, its top class
    (espresso, p 0.94), Grad-CAM at the default layer (7 x 7): blurring the CAM's squares
    first loses the class faster than blurring smooth random maps at 7 x 7 (sigma 8/7
    squares), though slower than scattered i.i.d. squares (the control this replaces)."""
    from whylens.app._embedded import lite0
    from whylens.errors import MissingDependencyError

    try:
        served = lite0()
    except MissingDependencyError as exc:
        pytest.skip(f"the demo extra: {exc}")
    coffee = next(image for image in served.bundled if image.name == "coffee")
    x = _x(coffee.pixels)
    with torch.no_grad():
        top = int(served.module(x).argmax())
    assert served.labels[top] == "espresso"
    cam = GradCAM(served.module, served.default_layer)(x, target=top, progress=False)
    matched = trust_meta(served, coffee, cam, top)
    assert matched["control"] == {"kind": "smooth", "sigma": round(16 / 7 / 2, 6),
                                  "scale": "layer 7x7"}
    dele = matched["deletion"]
    assert dele["vs_random"] > 0.1  # measured 0.395 against 0.542 (+- 0.095)
    assert matched["insertion"]["vs_random"] > 0.1
    iid = trust_meta(served, coffee, cam, top, control="iid")["deletion"]
    assert iid["score"] == dele["score"] and iid["vs_random"] < 0  # 0.395 against 0.316
