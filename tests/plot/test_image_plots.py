"""Image figures: overlay, lime mask, feature-map grids, HTML; never pyplot state."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from whylens import Explanation, Features
from whylens.errors import BatchExplanationError, InputError, NotSupportedError
from whylens.lime import LimeImageExplainer, SegmentationAlgorithm
from whylens.plot import feature_map_grid, image_mask, image_overlay
from whylens.plot._image import display_image, heat_map

RNG = np.random.default_rng(0)
IMAGE = RNG.random((16, 16, 3))


def classifier(images):
    s = np.asarray(images)[:, 4:8, 4:8].mean(axis=(1, 2, 3))
    p = 1.0 / (1.0 + np.exp(-8.0 * (s - 0.3)))
    return np.stack([1.0 - p, p], axis=1)


@pytest.fixture(scope="module")
def lime_exp():
    return LimeImageExplainer(random_state=0).explain_instance(
        IMAGE, classifier, segmentation_fn=SegmentationAlgorithm("grid", rows=4, cols=4),
        num_samples=200, hide_color=0, top_labels=2)


def cam_exp(n=1):
    values = RNG.random((n, 1, 16, 16))
    return Explanation(values=values, labels=[3], method="torch.gradcam",
                       features=Features(kind="image", names=[], data=RNG.random((n, 16, 16, 3))),
                       output=RNG.random((n, 5)))


def test_overlay_draws_image_heat_and_colour_bar():
    exp = cam_exp()
    fig = image_overlay(exp)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.images) == 2 and len(fig.axes) == 2  # photo, heat map, colour bar
    np.testing.assert_array_equal(ax.images[1].get_array(), exp.values[0, 0])
    np.testing.assert_allclose(ax.images[0].get_array(), exp.features.data[0])
    assert ax.get_title() == "torch.gradcam: class 3"
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules[
        "matplotlib.pyplot"].get_fignums()


def test_lime_heat_map_paints_weights_on_segments(lime_exp):
    heat = heat_map(lime_exp, 1)
    weights = dict(lime_exp.local_exp[1])
    for segment in range(16):
        np.testing.assert_allclose(heat[lime_exp.segments == segment], weights[segment])
    fig = image_overlay(lime_exp, 1)
    assert fig.axes[0].images[1].get_cmap().name == "RdBu_r"  # signed weights


def test_image_mask_marks_boundaries_of_the_shown_superpixels(lime_exp):
    fig = image_mask(lime_exp, 1, max_display=1)
    drawn = np.asarray(fig.axes[0].images[0].get_array())
    _, mask = lime_exp.get_image_and_mask(1, num_features=1)
    assert mask.sum() == 16  # the 4x4 cell of segment 5
    yellow = np.all(np.isclose(drawn, [1, 1, 0]), axis=-1)
    assert yellow.any() and not yellow[mask == 0].all()
    assert yellow[mask == 1].sum() > 0


def test_feature_map_grid_panels():
    values = RNG.random((2, 5, 6, 6))
    exp = Explanation(values=values, labels=[4, 0, 2, 1, 3], method="torch.feature_maps",
                      features=Features(kind="image", names=[]), params={"layer": "conv"})
    fig = feature_map_grid(exp, index=1, max_display=4)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["ch 4", "ch 0", "ch 2", "ch 1"]
    np.testing.assert_array_equal(panels[0].images[0].get_array(), values[1, 0])
    assert fig._suptitle.get_text() == "torch.feature_maps of conv"


def test_pattern_grid_is_rgb_scaled_and_sequence_grid_is_one_heat_row_per_channel():
    patterns = Explanation(values=RNG.normal(size=(1, 3, 5, 5, 3)), labels=[0, 1, 2],
                           method="torch.filter_patterns",
                           features=Features(kind="image", names=[]))
    panel = next(ax for ax in feature_map_grid(patterns).axes if ax.images)
    shown = np.asarray(panel.images[0].get_array())
    assert shown.shape == (5, 5, 3) and shown.min() == 0.0 and shown.max() == 1.0
    seq = Explanation(values=RNG.random((1, 3, 9)), labels=[0, 1, 2], method="m",
                      features=Features(kind="sequence", names=[]))
    fig = feature_map_grid(seq)
    assert fig.axes[0].images[0].get_array().shape == (3, 9)


def test_display_image_scales():
    np.testing.assert_allclose(display_image(np.array([[0, 255]], np.uint8)), [[0.0, 1.0]])
    np.testing.assert_allclose(display_image(np.array([[-2.0, 2.0]])), [[0.0, 1.0]])
    np.testing.assert_allclose(display_image(np.array([[0.2, 0.4]])), [[0.2, 0.4]])


def test_html_embeds_figures(lime_exp):
    html = cam_exp()._repr_html_()
    assert html.count("data:image/png;base64,") == 1 and "data-label" not in html
    lime_html = lime_exp.as_html()
    assert lime_html.startswith("<!doctype html>")
    assert lime_html.count("data:image/png;base64,") == 4  # mask + overlay, two labels
    assert "segment 5" in lime_html and "Prediction probabilities" in lime_html


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda e: image_overlay(cam_exp(2)), BatchExplanationError, r"exp\[0\]"),
        (lambda e: image_overlay(cam_exp(), label=7), InputError, "explained labels"),
        (lambda e: image_overlay(cam_exp(), image=np.zeros((4, 4))), InputError, "size"),
        (lambda e: image_overlay(Explanation(values=np.zeros((1, 1, 3)), labels=[0],
                                             method="lime.tabular",
                                             features=Features(kind="tabular",
                                                               names=["a", "b", "c"]))),
         NotSupportedError, "image explanation"),
        (lambda e: feature_map_grid(cam_exp(), max_display=0), InputError, "max_display"),
        (lambda e: feature_map_grid(cam_exp(), index=3), InputError, "index"),
        (lambda e: image_mask(e, 1, positive_only=True, negative_only=True), InputError,
         "at most one"),
    ],
)
def test_bad_inputs(lime_exp, call, error, match):
    with pytest.raises(error, match=match):
        call(lime_exp)


@pytest.mark.parametrize("channels_last", [False, True])
def test_per_channel_gradient_maps_sum_over_channels(channels_last):
    """Integrated-Gradients-style maps keep the input's channels; the heat map adds them
    up per pixel (so it still sums to the total attribution) and the overlay draws it."""
    rng = np.random.default_rng(0)
    image = rng.random((1, 6, 5, 3))
    per_channel = rng.normal(size=(6, 5, 3) if channels_last else (3, 6, 5))
    exp = Explanation(values=per_channel[None, None], labels=[2], method="torch.integrated",
                      features=Features(kind="image", names=[], data=image))
    heat = heat_map(exp)
    expected = per_channel.sum(axis=-1 if channels_last else 0)
    np.testing.assert_allclose(heat, expected, rtol=0, atol=1e-15)
    assert heat.sum() == pytest.approx(per_channel.sum())
    assert isinstance(image_overlay(exp), Figure)
