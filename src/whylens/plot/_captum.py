"""captum's ``visualize_image_attr``: an image attribution drawn as captum draws it.

Code written for ``captum.attr.visualization.visualize_image_attr`` runs with
only the import changed; the normalised map and the colours are captum's
(sum over channels, sign selection, scaled by the value where the cumulative
sum reaches ``100 - outlier_perc`` percent, clipped to [-1, 1]). Nothing here
calls ``plt.show()``: with ``use_pyplot=True`` the figure is made by pyplot,
so a notebook shows it at the end of the cell.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe

__all__ = ["normalize_image_attr", "visualize_image_attr"]

METHODS = ("heat_map", "blended_heat_map", "original_image", "masked_image", "alpha_scaling")
SIGNS = ("all", "positive", "negative", "absolute_value")


def _as_array(value: Any, argument: str) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise InputTypeError(describe(argument, "an ndarray (or tensor) of shape (H, W, C)",
                                      value))
    if value.ndim == 2:
        value = value[:, :, None]
    if value.ndim != 3:
        raise InputError(describe(
            argument, "an array of shape (H, W, C) or (H, W), channels last",
            got_text=f"shape {value.shape}",
            fix="For a (C, H, W) tensor: np.transpose(attr.squeeze().cpu().detach().numpy(), "
                "(1, 2, 0))."))
    return value


def _threshold(values: np.ndarray, percentile: float) -> float:
    """The value where the sorted values' cumulative sum reaches ``percentile`` % of the sum."""
    ordered = np.sort(values.reshape(-1))
    cum = np.cumsum(ordered)
    index = np.where(cum >= cum[-1] * 0.01 * percentile)[0][0]
    return float(ordered[index])


def normalize_image_attr(attr: Any, sign: str = "absolute_value",
                         outlier_perc: float = 2) -> np.ndarray:
    """captum's normalisation of an image attribution to [-1, 1].

    Parameters
    ----------
    attr : ndarray of shape (H, W, C) or (H, W)
    sign : {"absolute_value", "all", "positive", "negative"}
    outlier_perc : float, default=2
        The percent of the attribution's total kept above the scale (so the
        largest values saturate).

    Returns
    -------
    ndarray of shape (H, W)

    Raises
    ------
    InputError
        An unknown sign, an ``outlier_perc`` outside [0, 100], or an all-zero
        attribution for the sign (nothing to scale by).
    """
    a = _as_array(attr, "attr").astype(np.float64)
    if sign not in SIGNS:
        raise InputError(describe("sign", f"one of {list(SIGNS)}", sign))
    if not 0 <= outlier_perc <= 100:
        raise InputError(describe("outlier_perc", "a percent in [0, 100]", outlier_perc))
    combined = a.sum(axis=2)
    if sign == "all":
        scale = _threshold(np.abs(combined), 100 - outlier_perc)
    elif sign == "positive":
        combined = (combined > 0) * combined
        scale = _threshold(combined, 100 - outlier_perc)
    elif sign == "negative":
        combined = (combined < 0) * combined
        scale = -_threshold(np.abs(combined), 100 - outlier_perc)
    else:
        combined = np.abs(combined)
        scale = _threshold(combined, 100 - outlier_perc)
    if scale == 0:
        raise InputError(describe(
            "attr", f"some non-zero attribution for sign={sign!r}", got_text="all zeros",
            fix="Pick another sign (e.g. 'all'), or check the target and baselines."))
    return np.clip(combined / scale, -1, 1)


def _uint8(image: np.ndarray) -> np.ndarray:
    """Pixel values as captum shows them: truncated to int and clipped to [0, 255]."""
    return np.clip(image.astype(int), 0, 255)


def visualize_image_attr(attr: Any, original_image: Any = None, method: str = "heat_map",
                         sign: str = "absolute_value", plt_fig_axis: Any = None,
                         outlier_perc: float = 2, cmap: Any = None, alpha_overlay: float = 0.5,
                         show_colorbar: bool = False, title: str | None = None,
                         fig_size: tuple[float, float] = (6, 6),
                         use_pyplot: bool = True) -> tuple[Any, Any]:
    """Draw an image attribution as captum's ``visualize_image_attr`` does.

    Parameters
    ----------
    attr : ndarray or Tensor of shape (H, W, C) or (H, W)
        Channels last, as captum.
    original_image : ndarray of shape (H, W, C), optional
        Needed by every method but ``"heat_map"``; values in [0, 1] are
        scaled to [0, 255].
    method : {"heat_map", "blended_heat_map", "original_image", "masked_image", \
"alpha_scaling"}
    sign : {"absolute_value", "all", "positive", "negative"}
        ``"all"`` only with the heat maps.
    plt_fig_axis : (Figure, Axes), optional
        Draw there.
    outlier_perc : float, default=2
    cmap : str or Colormap, optional
        Default by sign: "all" red-white-green, positive Greens, negative Reds,
        absolute value Blues.
    alpha_overlay : float, default=0.5
    show_colorbar : bool, default=False
    title : str, optional
    fig_size : (float, float), default=(6, 6)
    use_pyplot : bool, default=True
        Make the figure with pyplot (a notebook shows it); ``plt.show()`` is
        never called. False: a bare Figure.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Raises
    ------
    InputError
        An unknown method or sign, a method that needs ``original_image``
        without it, ``sign="all"`` with masked_image or alpha_scaling, an
        image of another height and width.
    """
    if method not in METHODS:
        raise InputError(describe("method", f"one of {list(METHODS)}", method))
    if sign not in SIGNS:
        raise InputError(describe("sign", f"one of {list(SIGNS)}", sign))
    a = _as_array(attr, "attr")
    image = None
    if original_image is not None:
        image = _as_array(original_image, "original_image")
        if image.shape[:2] != a.shape[:2]:
            raise InputError(describe(
                "original_image", f"an image of height and width {a.shape[:2]} (attr's)",
                got_text=f"shape {image.shape}"))
        if np.max(image) <= 1.0:
            image = _uint8(image * 255)
    elif method != "heat_map":
        raise InputError(describe("original_image", f"the image, for method={method!r}",
                                  None, "Pass original_image=, or use method='heat_map'."))
    if sign == "all" and method in ("masked_image", "alpha_scaling"):
        raise InputError(describe("sign", f"'positive', 'negative' or 'absolute_value' for "
                                  f"method={method!r}", sign))
    if plt_fig_axis is not None:
        fig, ax = plt_fig_axis
    elif use_pyplot:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=fig_size)
    else:
        from matplotlib.figure import Figure

        fig = Figure(figsize=fig_size)
        ax = fig.subplots()
    heat = None
    if method == "original_image":
        assert image is not None
        ax.imshow(image if image.shape[2] != 1 else image[:, :, 0])
    else:
        norm = normalize_image_attr(a, sign, outlier_perc)
        vmin, vmax = (-1, 1) if sign == "all" else (0, 1)
        if cmap is None:
            if sign == "all":
                from matplotlib.colors import LinearSegmentedColormap

                cmap = LinearSegmentedColormap.from_list("RdWhGn", ["red", "white", "green"])
            else:
                cmap = {"positive": "Greens", "negative": "Reds",
                        "absolute_value": "Blues"}[sign]
        if method == "heat_map":
            heat = ax.imshow(norm, cmap=cmap, vmin=vmin, vmax=vmax)
        elif method == "blended_heat_map":
            assert image is not None
            ax.imshow(np.mean(image, axis=2), cmap="gray")
            heat = ax.imshow(norm, cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha_overlay)
        elif method == "masked_image":
            assert image is not None
            ax.imshow(_uint8(image * norm[:, :, None]))
        else:  # alpha_scaling
            assert image is not None
            ax.imshow(np.concatenate([image, _uint8(norm[:, :, None] * 255)], axis=2))
    if show_colorbar:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        bar_ax = make_axes_locatable(ax).append_axes("bottom", size="5%", pad=0.1)
        if heat is not None:
            fig.colorbar(heat, orientation="horizontal", cax=bar_ax)
        else:
            bar_ax.axis("off")
    ax.xaxis.set_ticks_position("none")
    ax.yaxis.set_ticks_position("none")
    ax.set_yticklabels([])
    ax.set_xticklabels([])
    ax.grid(visible=False)
    if title:
        ax.set_title(title)
    return fig, ax
