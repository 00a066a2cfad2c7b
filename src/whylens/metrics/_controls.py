"""The random control of deletion and insertion: i.i.d. or smooth random attributions.

``"iid"`` draws one standard normal per feature. ``"smooth"`` draws the same
normals, lays them on the image's feature grid and smooths them with a
Gaussian filter of ``control_sigma`` grid cells over the two spatial axes, so
that a random ordering removes blobs at the explanation's own scale instead
of scattered features (on images, scattered removal destroys a class faster
than removing any contiguous region, so an i.i.d. control flatters chance on
deletion). As ``control_sigma`` tends to 0 the filter is the identity (its
kernel has radius ``int(4 * sigma + 0.5) = 0`` below 0.125 cells) and the
smooth control equals the i.i.d. one draw for draw.

A feature grid is known for image features only:

* one feature per element (``(C, H, W)``, ``(H, W, C)`` or ``(H, W)``
  attributions): the input's own grid, smoothed over its spatial axes only
  (every channel is drawn and smoothed on its own);
* a spatial map (``(H, W)`` attributions of colour images): the pixel grid;
* segments that form a grid of rectangles (``features.segments`` whose rows
  and columns split into bands, one segment per band cell, such as the
  workbench's squares): the ``(rows, columns)`` grid of the cells, ``sigma``
  in cells. Irregular segments (superpixels) have no grid.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe
from whylens.metrics._inputs import Task, _spatial_layout

__all__ = ["CONTROLS", "Grid", "check_control", "control_draws", "feature_grids"]

CONTROLS = ("iid", "smooth")

#: (grid shape, sigma factor per grid axis (1 spatial, 0 channel), cell of each feature (F,))
Grid = tuple[tuple[int, ...], tuple[float, ...], np.ndarray]


def check_control(control: Any, control_sigma: Any) -> tuple[str, float]:
    """``(control, control_sigma)`` checked.

    Raises
    ------
    InputError, InputTypeError
        An unknown control; a sigma that is not a positive finite number.
    """
    if not isinstance(control, str) or control not in CONTROLS:
        raise InputError(describe("control", f"one of {CONTROLS}", control,
                                  "'smooth' draws random maps at the explanation's scale "
                                  "(images on a grid); 'iid' one value per feature."))
    if isinstance(control_sigma, bool) or not isinstance(
            control_sigma, (int, float, np.integer, np.floating)):
        raise InputTypeError(describe("control_sigma", "a positive number of grid cells",
                                      control_sigma))
    if not (np.isfinite(control_sigma) and control_sigma > 0):
        raise InputError(describe("control_sigma", "a positive number of grid cells",
                                  control_sigma))
    return control, float(control_sigma)


def _no_grid(got: str) -> InputError:
    return InputError(describe(
        "control", "'iid' here: 'smooth' needs image features on a 2-D grid (pixels, a "
        "spatial map, or segments forming a grid of rectangles)", got_text=got,
        fix="Pass control='iid', or score the map on a grid of squares."))


def _segment_grid(seg: np.ndarray, n_features: int) -> Grid | None:
    """The grid of a 2-D segment map whose segments are the cells of row and column bands."""
    new_row = np.r_[True, np.any(seg[1:] != seg[:-1], axis=1)]
    new_col = np.r_[True, np.any(seg[:, 1:] != seg[:, :-1], axis=0)]
    cells = seg[np.flatnonzero(new_row)][:, np.flatnonzero(new_col)]  # (R, C)
    ids = cells.reshape(-1)
    if ids.size != n_features or np.unique(ids).size != ids.size:
        return None  # a segment in several cells, or a feature in none
    position = np.empty(n_features, dtype=np.int64)
    position[ids] = np.arange(ids.size)
    return cells.shape, (1.0, 1.0), position


def feature_grids(task: Task) -> list[Grid]:
    """The feature grid of every instance (one shared grid when the feature map is shared).

    Raises
    ------
    InputError
        Not image features, irregular segments, or more than two spatial axes
        (the message names ``control``).
    """
    remover = task.remover
    if task.kind != "image" or not hasattr(remover, "fmap"):
        raise _no_grid(f"{task.kind} features")
    x_shape = tuple(remover.x.shape[1:])
    channel = _spatial_layout(x_shape)
    if remover.per_instance_map:  # segments: (n, H, W), a channel axis of 1 when colour
        grids = []
        for i, fmap in enumerate(remover.fmap):
            seg = np.take(fmap, 0, axis=channel) if fmap.ndim == 3 else fmap
            grid = _segment_grid(seg, task.n_features)
            if grid is None:
                raise _no_grid(f"segments of instance {i} that are not a grid of "
                               "rectangles (superpixels)")
            grids.append(grid)
        return grids
    fmap = remover.fmap  # arange(F) in the grid's own order (a channel axis of 1 for maps)
    shape = tuple(int(s) for s in fmap.shape)
    if len(shape) not in (2, 3) or len(shape) != len(x_shape) or (
            len(shape) == 3 and channel is None):
        raise _no_grid(f"features on a grid of shape {shape}")
    ones = [a for a, s in enumerate(shape) if s == 1 and x_shape[a] != 1]
    axis = ones[0] if ones else channel
    factors = tuple(0.0 if a == axis else 1.0 for a in range(len(shape)))
    return [(shape, factors, np.arange(task.n_features))]


def control_draws(rng: np.random.Generator, task: Task, n_random: int, control: str,
                  sigma: float, grids: list[Grid] | None) -> list[np.ndarray]:
    """``n_random`` random attributions (n * n_labels, n_features) each.

    The standard normals are drawn as for ``"iid"`` (one array per draw, in
    the same order), then for ``"smooth"`` laid on each instance's grid,
    filtered (``scipy.ndimage.gaussian_filter``, ``sigma`` cells on the
    spatial axes, mode ``"reflect"``) and read back per feature.
    """
    n, n_labels, n_features = task.n, task.n_labels, task.n_features
    draws = [rng.standard_normal((n * n_labels, n_features)) for _ in range(n_random)]
    if control == "iid" or not draws:
        return draws
    from scipy.ndimage import gaussian_filter

    assert grids is not None  # feature_grids(task), checked before any evaluation
    stacked = np.stack(draws).reshape(n_random, n, n_labels, n_features)
    groups = [(slice(None), grids[0])] if len(grids) == 1 else list(enumerate(grids))
    for which, (shape, factors, position) in groups:
        part = stacked[:, which]
        flat = part.reshape(-1, n_features)
        laid = np.empty((flat.shape[0], int(np.prod(shape))))
        laid[:, position] = flat
        smooth = gaussian_filter(laid.reshape(-1, *shape), [0.0, *(f * sigma for f in factors)],
                                 mode="reflect")
        stacked[:, which] = smooth.reshape(flat.shape[0], -1)[:, position].reshape(part.shape)
    return list(stacked.reshape(n_random, n * n_labels, n_features))
