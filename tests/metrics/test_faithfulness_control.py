"""The random control of deletion / insertion: ``control="iid"`` and ``control="smooth"``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from whylens import Explanation, Features
from whylens.errors import InputError, InputTypeError
from whylens.metrics import deletion, insertion
from whylens.metrics._controls import control_draws, feature_grids
from whylens.metrics._inputs import resolve

H = W = 12


def brightness(X):
    """Two outputs of (n, 3, H, W) images: the mean of the top-left quarter, and its negative."""
    X = np.asarray(X, dtype=np.float64)
    top = X[:, :, : H // 2, : W // 2].mean(axis=(1, 2, 3))
    return np.stack([top, -top], axis=1)


def _images(n=2):
    rng = np.random.default_rng(1)
    return rng.uniform(0.0, 1.0, size=(n, 3, H, W))


def _squares(g=4):
    """(H, W) ids of g x g squares, the ids shuffled (a grid need not be numbered row-major)."""
    ids = np.random.default_rng(2).permutation(g * g).reshape(g, g)
    return np.kron(ids, np.ones((H // g, W // g), np.int64)), ids


def _square_explanation(n=2, g=4):
    seg, _ = _squares(g)
    values = np.random.default_rng(3).normal(size=(n, 1, g * g))
    return Explanation(values=values, labels=np.array([0]), method="test",
                       features=Features(kind="image", names=[str(j) for j in range(g * g)],
                                         segments=np.broadcast_to(seg, (n, H, W)).copy()))


def _pixel_map(n=2):
    return np.random.default_rng(4).normal(size=(n, H, W))


@pytest.mark.parametrize("metric", [deletion, insertion])
@pytest.mark.parametrize("which", ["pixels", "squares"])
def test_a_tiny_sigma_gives_exactly_the_iid_control(metric, which):
    """Below 0.125 cells the Gaussian's kernel is [1]: the same normals, the same areas."""
    x = _images()
    exp, extra = ((_pixel_map(), {"target": 0}) if which == "pixels"
                  else (_square_explanation(), {}))
    iid = metric(brightness, exp, x, n_random=4, random_state=7, baseline="zero", **extra)
    smooth = metric(brightness, exp, x, n_random=4, random_state=7, baseline="zero",
                    control="smooth", control_sigma=1e-3, **extra)
    np.testing.assert_array_equal(smooth.random.scores, iid.random.scores)
    assert smooth.score == iid.score
    assert iid.params["control"] == "iid" and iid.params["control_sigma"] is None
    assert smooth.params["control"] == "smooth" and smooth.params["control_sigma"] == 1e-3
    assert smooth.to_dict()["params"]["control"] == "smooth"
    # a real sigma changes the control, not the explanation's own area
    wide = metric(brightness, exp, x, n_random=4, random_state=7, baseline="zero",
                  control="smooth", control_sigma=2.0, **extra)
    assert wide.score == iid.score
    assert not np.array_equal(wide.random.scores, iid.random.scores)


def test_the_same_seed_gives_the_same_control_and_another_seed_another():
    x, exp = _images(), _square_explanation()
    runs = [deletion(brightness, exp, x, n_random=3, random_state=seed, control="smooth",
                     control_sigma=1.5) for seed in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0].random.scores, runs[1].random.scores)
    assert not np.array_equal(runs[0].random.scores, runs[2].random.scores)
    gen = deletion(brightness, exp, x, n_random=3, random_state=np.random.default_rng(5),
                   control="smooth", control_sigma=1.5)
    np.testing.assert_array_equal(gen.random.scores, runs[0].random.scores)


def _neighbour_correlation(maps):
    """Correlation of horizontally and vertically adjacent cells of (m, h, w) maps."""
    a = np.r_[maps[:, :, :-1].ravel(), maps[:, :-1, :].ravel()]
    b = np.r_[maps[:, :, 1:].ravel(), maps[:, 1:, :].ravel()]
    return float(np.corrcoef(a, b)[0, 1])


def _draws(exp, x, control, sigma, target=None):
    task = resolve(brightness, exp, x, target=target, baseline="zero")
    grids = feature_grids(task) if control == "smooth" else None
    rng = np.random.default_rng(0)
    return task, np.stack(control_draws(rng, task, 50, control, sigma, grids))


def test_smooth_maps_on_the_pixel_grid_are_correlated_like_their_gaussian():
    """White noise filtered by a Gaussian of sigma has neighbour correlation
    exp(-1 / (4 sigma^2)) (0.94 at sigma 2); i.i.d. draws have none."""
    x = _images()
    for sigma, low, high in ((2.0, 0.85, 0.97), (1.0, 0.65, 0.85)):
        _, smooth = _draws(_pixel_map(), x, "smooth", sigma, target=0)
        assert low < _neighbour_correlation(smooth.reshape(-1, H, W)) < high
    _, iid = _draws(_pixel_map(), x, "iid", 1.0, target=0)
    assert abs(_neighbour_correlation(iid.reshape(-1, H, W))) < 0.05


def test_smooth_maps_on_shuffled_squares_are_smooth_in_the_image():
    """The squares' ids are shuffled: painted back on the image, the smooth draws are
    smooth across neighbouring squares (the grid is read from the segments)."""
    g = 4
    _, ids = _squares(g)
    exp, x = _square_explanation(g=g), _images()
    _, smooth = _draws(exp, x, "smooth", 1.5)
    _, iid = _draws(exp, x, "iid", 1.5)
    on_grid = (smooth.reshape(-1, g * g)[:, ids], iid.reshape(-1, g * g)[:, ids])  # (m, g, g)
    assert _neighbour_correlation(on_grid[0]) > 0.6
    assert abs(_neighbour_correlation(on_grid[1])) < 0.15
    # the layout found: square j sits at the cell where ids == j
    task = resolve(brightness, exp, x, baseline="zero")
    shape, factors, position = feature_grids(task)[0]
    assert shape == (g, g) and factors == (1.0, 1.0)
    np.testing.assert_array_equal(ids.reshape(-1)[position], np.arange(g * g))


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_per_element_features_are_smoothed_within_each_channel(layout):
    x = _images(1)
    values = np.random.default_rng(5).normal(size=x.shape)
    if layout == "channels_last":
        x, values = np.moveaxis(x, 1, -1), np.moveaxis(values, 1, -1)
        model = lambda X: brightness(np.moveaxis(np.asarray(X), -1, 1))  # noqa: E731
    else:
        model = brightness
    task = resolve(model, values, x, target=0, baseline="zero")
    (shape, factors, _), = feature_grids(task)
    assert shape == x.shape[1:]
    assert factors == ((0.0, 1.0, 1.0) if layout == "channels_first" else (1.0, 1.0, 0.0))
    draws = np.stack(control_draws(np.random.default_rng(0), task, 3, "smooth", 2.0,
                                   feature_grids(task))).reshape(-1, *shape)
    normals = np.random.default_rng(0).standard_normal((3, int(np.prod(shape))))
    normals = normals.reshape(-1, *shape)
    axis = 1 if layout == "channels_first" else 3
    # each channel on its own: a 2-D Gaussian of every (H, W) plane, the channels not mixed
    for c in range(3):
        plane = gaussian_filter(np.take(normals, c, axis=axis), (0, 2.0, 2.0), mode="reflect")
        np.testing.assert_allclose(np.take(draws, c, axis=axis), plane, rtol=0, atol=1e-12)


def _superpixels():
    """Segments that are no grid: a 2 x 2 grid whose top-left cell is split diagonally."""
    seg = np.kron(np.arange(4).reshape(2, 2), np.ones((H // 2, W // 2), np.int64)) + 1
    rows, cols = np.indices((H // 2, W // 2))
    seg[: H // 2, : W // 2][rows > cols] = 0
    return seg


def _tabular(X):
    return np.asarray(X, dtype=np.float64)[:, :1]


@pytest.mark.parametrize("case", ["table", "text", "superpixels", "volume"])
def test_smooth_needs_an_image_grid(case):
    if case == "table":
        args = (_tabular, np.ones((2, 3)), np.zeros((2, 3)))
        kwargs = {"target": 0, "baseline": "zero"}
    elif case == "text":
        exp = Explanation(values=np.ones((1, 1, 2)), labels=np.array([0]), method="test",
                          features=Features(kind="text", names=["a", "b"],
                                            spans=[[[(0, 1)], [(2, 3)]]], texts=["a b"]))
        args = (lambda texts: np.ones((len(texts), 1)), exp, None)
        kwargs = {}
    elif case == "superpixels":
        exp = Explanation(values=np.ones((1, 1, 5)), labels=np.array([0]), method="test",
                          features=Features(kind="image", names=list("abcde"),
                                            segments=_superpixels()[None]))
        args, kwargs = (brightness, exp, _images(1)), {"baseline": "zero"}
    else:  # (n, 3, D, H, W): more than two spatial axes
        x = np.zeros((1, 3, 2, H, W))
        args = (lambda X: np.ones((len(X), 1)), np.ones_like(x), x)
        kwargs = {"target": 0, "baseline": "zero"}
    with pytest.raises(InputError, match="control"):
        deletion(*args, control="smooth", **kwargs)
    if case != "volume":  # the iid control takes any features
        assert deletion(*args, **kwargs).params["control"] == "iid"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"control": "gaussian"}, InputError, "control"),
    ({"control": None}, InputError, "control"),
    ({"control": "smooth", "control_sigma": 0}, InputError, "control_sigma"),
    ({"control": "smooth", "control_sigma": -1.0}, InputError, "control_sigma"),
    ({"control": "smooth", "control_sigma": float("nan")}, InputError, "control_sigma"),
    ({"control": "smooth", "control_sigma": "2"}, InputTypeError, "control_sigma"),
    ({"control": "smooth", "control_sigma": True}, InputTypeError, "control_sigma"),
    ({"control_sigma": 0.0}, InputError, "control_sigma"),
])
@pytest.mark.parametrize("metric", [deletion, insertion])
def test_bad_control_arguments_name_the_argument(metric, kwargs, error, match):
    with pytest.raises(error, match=match):
        metric(brightness, _pixel_map(), _images(), target=0, **kwargs)
