"""The workbench's pictures: heat maps over images and channel grids, as PNG bytes.

Drawn with numpy and Pillow, not matplotlib: a click must turn into a picture
in well under a second, and a figure costs more than the CAM. The colours are
matplotlib's colormaps, read once as lookup tables, so a panel looks like the
library's own plots (:func:`whylens.plot.image_overlay`,
:func:`whylens.plot.feature_map_grid`).
"""

from __future__ import annotations

import functools
import io

import numpy as np

__all__ = ["channel_grid", "heat_overlay", "png", "segment_boundaries", "signed_scale",
           "unsigned_scale"]


@functools.lru_cache(maxsize=8)
def _lut(name: str) -> np.ndarray:
    """(256, 3) uint8 colours of a matplotlib colormap."""
    from matplotlib import colormaps

    return (colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255.0 + 0.5).astype(np.uint8)


def png(pixels: np.ndarray) -> bytes:
    """Encode (H, W, 3) uint8 pixels as PNG (fast compression)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def unsigned_scale(values: np.ndarray, percentile: float = 100.0
                   ) -> tuple[np.ndarray, float, float]:
    """Scale non-negative maps to [0, 1] by their maximum (a flat map stays 0).

    ``percentile`` below 100 scales by that percentile instead and clips above
    it (captum's ``outlier_perc``): pixel attributions are sparse, and a few
    extreme pixels would otherwise leave the rest invisible.

    Returns
    -------
    scaled : ndarray, same shape, float64 in [0, 1]
    lo, hi : float
        The values that map to 0 and 1.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    v = np.where(finite, v, 0.0)
    lo = float(min(v.min(initial=0.0), 0.0))
    hi = float(v.max(initial=0.0)) if percentile >= 100.0 or v.size == 0 \
        else float(np.percentile(v, percentile))
    if hi <= lo:
        return np.zeros_like(v), lo, hi
    return np.clip((v - lo) / (hi - lo), 0.0, 1.0), lo, hi


def signed_scale(values: np.ndarray, percentile: float = 100.0) -> tuple[np.ndarray, float]:
    """Scale signed maps to [0, 1] with 0 at 0.5, by the largest absolute value.

    ``percentile`` below 100 scales by that percentile of the absolute values
    and clips beyond it (see :func:`unsigned_scale`).

    Returns
    -------
    scaled : ndarray, same shape, float64 in [0, 1]
    bound : float
        The absolute value that maps to 0 and 1.
    """
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.isfinite(v), v, 0.0)
    a = np.abs(v)
    bound = float(a.max(initial=0.0)) if percentile >= 100.0 or v.size == 0 \
        else float(np.percentile(a, percentile))
    if bound == 0.0:
        return np.full_like(v, 0.5), 0.0
    return np.clip(0.5 + 0.5 * v / bound, 0.0, 1.0), bound


def _resize(scaled: np.ndarray, shape: tuple[int, int], smooth: bool) -> np.ndarray:
    from PIL import Image

    if scaled.shape == shape:
        return scaled
    img = Image.fromarray(scaled.astype(np.float32), mode="F")
    method = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    return np.asarray(img.resize((shape[1], shape[0]), method), dtype=np.float64)


def heat_overlay(image: np.ndarray, scaled: np.ndarray, *, cmap: str = "jet",
                 alpha: float = 0.5, opacity: str = "flat") -> np.ndarray:
    """Blend a [0, 1] map over an image.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), float in [0, 1]
    scaled : ndarray of shape (h, w), in [0, 1]
        Resized (bilinear) to (H, W) when it differs.
    cmap : str
        A matplotlib colormap name.
    alpha : float
        Opacity of the map.
    opacity : {"flat", "signed", "value"}
        ``"flat"``: ``alpha`` everywhere (CAMs: the whole map is read).
        ``"signed"``: opacity grows with the distance from the middle (signed
        maps: zero attribution leaves the photo visible). ``"value"``: opacity
        grows with the value (sparse non-negative maps such as SmoothGrad's).

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    h, w = image.shape[:2]
    m = np.clip(_resize(scaled, (h, w), smooth=True), 0.0, 1.0)
    colours = _lut(cmap)[(m * 255.0 + 0.5).astype(np.intp)].astype(np.float64) / 255.0
    a = np.full((h, w, 1), float(alpha))
    if opacity == "signed":
        a = np.clip(a * np.minimum(1.0, 2.0 * np.abs(m - 0.5))[..., None] * 1.6, 0.0, 1.0)
    elif opacity == "value":
        a = np.clip(a * m[..., None] * 1.6, 0.0, 1.0)
    img = np.asarray(image, dtype=np.float64)
    out = (1.0 - a) * img + a * colours
    return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def channel_grid(maps: np.ndarray, *, columns: int = 8, tile: int = 96,
                 cmap: str = "viridis") -> np.ndarray:
    """Tile channel maps (k, h, w) into one picture, each channel scaled to its own range.

    Tiles are enlarged with nearest-neighbour sampling (each activation stays
    a visible square) to ``tile`` pixels on their longer side and separated by
    a 2-pixel white gap.

    Returns
    -------
    ndarray of shape (rows * (th + 2) - 2, columns * (tw + 2) - 2, 3), uint8
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 2:  # (k, L) sequences: one row per channel
        maps = maps[:, None, :]
    k, h, w = maps.shape
    columns = max(1, min(columns, k))
    rows = -(-k // columns)
    scale = max(1, tile // max(h, w))
    th, tw = h * scale, w * scale
    gap = 2
    out = np.full((rows * (th + gap) - gap, columns * (tw + gap) - gap, 3), 255, np.uint8)
    lut = _lut(cmap)
    for i in range(k):
        m = maps[i]
        m = np.where(np.isfinite(m), m, 0.0)
        lo, hi = float(m.min()), float(m.max())
        s = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        tile_px = lut[(s * 255.0 + 0.5).astype(np.intp)]
        tile_px = np.repeat(np.repeat(tile_px, scale, axis=0), scale, axis=1)
        r, c = divmod(i, columns)
        out[r * (th + gap) : r * (th + gap) + th, c * (tw + gap) : c * (tw + gap) + tw] = tile_px
    return out


def segment_boundaries(pixels: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Draw segment boundaries (yellow) on (H, W, 3) uint8 pixels; returns a copy."""
    from skimage.segmentation import find_boundaries

    out = np.array(pixels, copy=True)
    out[find_boundaries(segments, mode="inner")] = (255, 220, 0)
    return out
