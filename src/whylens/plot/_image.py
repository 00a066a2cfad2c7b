"""Image figures: heat-map overlays, lime-style masks, feature-map and pattern grids.

Every function returns a :class:`matplotlib.figure.Figure` and never calls
``plt.show()`` or touches pyplot's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import InputError, NotSupportedError, describe
from whylens.plot._common import check_explanation, max_display_alias, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from whylens.explanation import Explanation

__all__ = ["display_image", "feature_map_grid", "heat_map", "image_mask", "image_overlay"]


def display_image(image: Any) -> np.ndarray:
    """Scale an image to [0, 1] floats for display (uint8 / 255, else min-max if outside).

    Returns
    -------
    ndarray of shape (H, W, 3) or (H, W)
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 3 and img.shape[-1] == 4:
        img = img[..., :3]
    if img.dtype == np.uint8:
        return img.astype(np.float64) / 255.0
    img = img.astype(np.float64)
    lo, hi = float(img.min()), float(img.max())
    if lo < 0.0 or hi > 1.0:
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return img


def _label_row(exp: Explanation, label: int | None) -> int:
    if label is None:
        return 0
    where = np.flatnonzero(exp.labels == label)
    if where.size == 0:
        raise InputError(
            describe("label", f"one of the explained labels {exp.labels.tolist()}", label)
        )
    return int(where[0])


def heat_map(exp: Explanation, label: int | None = None) -> np.ndarray:
    """The (H, W) map of one label of a single-instance image explanation.

    LIME's per-segment weights are painted on their segments; CAMs and other
    pixel maps are returned as they are; per-channel maps of gradient methods
    (C, H, W) are summed over their channels.

    Returns
    -------
    ndarray of shape (H, W)

    Raises
    ------
    NotSupportedError
        For explanations that are not images.
    """
    check_explanation(exp)
    exp._single("heat_map")
    row = _label_row(exp, label)
    if exp.features.segments is not None:
        return exp.values[0, row][exp.features.segments[0]]
    values = exp.values[0, row]
    if values.ndim == 3 and exp.features.kind == "image":
        # Gradient attributions keep the input's channels: a pixel's value is the sum
        # over its channels, so the map still adds up to the total attribution.
        data = exp.features.data
        spatial = None if data is None else tuple(data.shape[1:3])
        channels_last = spatial is not None and values.shape[:2] == spatial \
            and values.shape[1:] != spatial
        values = values.sum(axis=-1 if channels_last else 0)
    if values.ndim != 2 or exp.features.kind != "image":
        raise NotSupportedError(
            describe("explanation", "an image explanation with (H, W) maps",
                     got_text=f"a {exp.method!r} explanation with values of shape "
                              f"{exp.values.shape}")
        )
    return values


def _class_title(exp: Explanation, label: int | None, what: str) -> str:
    k = int(exp.labels[_label_row(exp, label)])
    return f"{what}: class {exp.output_name(k)}"


def _map_explanation(values: Any) -> Any:
    """A single-instance Explanation of an (H, W) map given as an array or tensor."""
    from whylens._types import result_type

    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise InputError(describe("exp", "an Explanation or an (H, W) map",
                                  got_text=f"an array of shape {np.shape(values)}",
                                  fix="Pass one map, e.g. grayscale_cam[0]."))
    Explanation, Features = result_type("Explanation"), result_type("Features")
    return Explanation(values=arr[None, None], labels=np.array([0]), method="map",
                       features=Features(kind="image", names=[]))


def image_overlay(
    exp: Explanation,
    label: int | None = None,
    image: Any = None,
    ax: Axes | None = None,
    alpha: float = 0.5,
    cmap: str | None = None,
    colorbar: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw an explanation's heat map over its image, with a colour bar.

    Parameters
    ----------
    exp : Explanation or array-like of shape (H, W)
        A single-instance image explanation: a CAM (``values`` (1, L, H, W)) or
        LIME image (per-segment weights painted on the segments); or a map as
        an array (a pytorch-grad-cam ``grayscale_cam[0]``, a torch tensor),
        drawn over ``image``.
    label : int, optional
        Which explained label; default the first.
    image : array-like (H, W, C) or (H, W), optional
        What to draw under the map (e.g. the un-normalised photo); default the
        explanation's own data.
    ax : matplotlib Axes, optional
    alpha : float, default=0.5
        Opacity of the heat map.
    cmap : str, optional
        Default ``"jet"`` for non-negative maps, ``"RdBu_r"`` centred on 0 for
        signed ones (LIME).
    colorbar : bool, default=True
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    BatchExplanationError
        A batch (select one with ``exp[i]``).
    InputError
        A label that was not explained, an image of another size.
    """
    if not hasattr(exp, "features") and (isinstance(exp, np.ndarray)
                                         or hasattr(exp, "detach") or isinstance(exp, list)):
        exp = _map_explanation(exp)
    heat = heat_map(exp, label)
    if image is None:
        image = None if exp.features.data is None else exp.features.data[0]
    fig, ax = new_axes(ax, (4.8, 4.0))
    if image is not None:
        img = display_image(image)
        if img.shape[:2] != heat.shape:
            raise InputError(describe("image", f"an image of size {heat.shape}",
                                      got_text=f"size {img.shape[:2]}"))
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0.0, vmax=1.0)
    signed = bool((heat < 0).any())
    if signed:
        bound = float(np.abs(heat).max()) or 1.0
        mappable = ax.imshow(heat, cmap=cmap or "RdBu_r", alpha=alpha, vmin=-bound, vmax=bound)
    else:
        mappable = ax.imshow(heat, cmap=cmap or "jet", alpha=alpha if image is not None else 1.0)
    ax.set_axis_off()
    if title is None:
        title = "" if exp.method == "map" else _class_title(exp, label, exp.method)
    ax.set_title(title)
    if colorbar:
        fig.colorbar(mappable, ax=ax, shrink=0.8)
    return fig


def image_mask(
    exp: Explanation,
    label: int | None = None,
    positive_only: bool = True,
    negative_only: bool = False,
    hide_rest: bool = False,
    max_display: int | None = None,
    min_weight: float = 0.0,
    ax: Axes | None = None,
    title: str | None = None,
    *,
    num_features: int | None = None,
) -> Figure:
    """lime's picture: ``get_image_and_mask`` with the superpixel boundaries drawn.

    Boundaries of shown positive superpixels are yellow (as
    ``mark_boundaries``), negative ones red.

    Parameters
    ----------
    exp : Explanation
        A single-instance LIME image explanation.
    label : int, optional
        Which explained label; default the first.
    positive_only, negative_only, hide_rest, min_weight
        As :meth:`whylens.Explanation.get_image_and_mask`.
    max_display : int, optional
        Superpixels shown, in decreasing ``|weight|`` order; default 5.
    ax : matplotlib Axes, optional
    title : str, optional
        Default ``"LIME: class <name>"``, the name from ``exp.output_names``.
    num_features : int, optional
        Alias of ``max_display`` (lime's name in ``get_image_and_mask``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        A label that was not explained, ``max_display`` < 1, or
        ``max_display`` and ``num_features`` that disagree.
    """
    from skimage.segmentation import mark_boundaries

    check_explanation(exp)
    count = max_display_alias(max_display, num_features, "num_features", 5)
    exp._single("image_mask")
    k = int(exp.labels[_label_row(exp, label)])
    temp, mask = exp.get_image_and_mask(k, positive_only=positive_only,
                                        negative_only=negative_only, hide_rest=hide_rest,
                                        num_features=count, min_weight=min_weight)
    img = display_image(temp)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    drawn = mark_boundaries(img, (mask > 0).astype(int), color=(1, 1, 0))
    if (mask < 0).any():
        drawn = mark_boundaries(drawn, (mask < 0).astype(int), color=(1, 0, 0))
    fig, ax = new_axes(ax, (4.0, 4.0))
    ax.imshow(drawn)
    ax.set_axis_off()
    ax.set_title(title if title is not None else _class_title(exp, label, "LIME"))
    return fig


def feature_map_grid(
    exp: Explanation,
    index: int = 0,
    max_display: int | None = None,
    ncols: int | None = None,
    cmap: str = "viridis",
    title: str | None = None,
    *,
    max_channels: int | None = None,
) -> Figure:
    """A grid of feature maps or filter patterns, one panel per channel.

    Parameters
    ----------
    exp : Explanation
        From :func:`whylens.torch.feature_maps` (``values`` (n, k, H, W) or
        (n, k, L)) or :func:`whylens.torch.filter_patterns` (``values``
        (1, k, H, W, C)).
    index : int, default=0
        Which instance of a feature-map batch.
    max_display : int, optional
        Panels shown (the first channels, i.e. the strongest when ranked);
        default 16.
    ncols : int, optional
        Columns; default about the square root of the panels.
    cmap : str, default="viridis"
        Colour map of single-channel maps (each panel scaled to its own range).
    title : str, optional
    max_channels : int, optional
        Alias of ``max_display`` (the name this function took before).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per channel, titled with the channel index.

    Raises
    ------
    InputError
        ``index`` out of range, ``max_display`` < 1, or ``max_display`` and
        ``max_channels`` that disagree.
    """
    from matplotlib.figure import Figure

    check_explanation(exp)
    count = max_display_alias(max_display, max_channels, "max_channels", 16)
    if not 0 <= index < exp.n_instances:
        raise InputError(describe("index", f"an instance index in [0, {exp.n_instances})",
                                  index))
    values = exp.values[index]
    channels = exp.labels.tolist()
    k = min(len(channels), count)
    if values.ndim == 2:  # 1-D maps: one heat row per channel
        fig = Figure(figsize=(6.4, 0.5 + 0.3 * k), layout="constrained")
        ax = fig.add_subplot()
        im = ax.imshow(values[:k], aspect="auto", cmap=cmap, interpolation="nearest")
        ax.set_yticks(range(k), [str(c) for c in channels[:k]])
        ax.set_xlabel("position")
        ax.set_ylabel("channel")
        fig.colorbar(im, ax=ax)
    else:
        ncols = ncols or int(np.ceil(np.sqrt(k)))
        ncols = check_positive_int("ncols", ncols)
        nrows = int(np.ceil(k / ncols))
        fig = Figure(figsize=(1.6 * ncols + 0.4, 1.7 * nrows + 0.4), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for j, ax in enumerate(axes.ravel()):
            ax.set_axis_off()
            if j >= k:
                continue
            panel = values[j]
            if panel.ndim == 3:  # a pattern (H, W, C): each scaled to [0, 1]
                lo, hi = panel.min(), panel.max()
                panel = (panel - lo) / (hi - lo) if hi > lo else np.zeros_like(panel)
                ax.imshow(panel if panel.shape[-1] == 3 else panel[..., 0],
                          cmap=None if panel.shape[-1] == 3 else "gray")
            else:
                ax.imshow(panel, cmap=cmap)
            ax.set_title(f"ch {channels[j]}", fontsize=8)
    layer = exp.params.get("layer")
    default = f"{exp.method} of {layer}" if layer else exp.method
    fig.suptitle(title if title is not None else default, fontsize=10)
    return fig
