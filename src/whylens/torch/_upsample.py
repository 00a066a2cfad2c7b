"""Upsampling a CAM to its input: bilinear/linear resize, or receptive-field centres.

A map from a pooled or strided layer is resized to the input
(``align_corners=False``). A stride-1 convolution that runs at the input's
resolution with less than 'same' padding gives a map shorter than the input;
there each position is placed at the centre of its receptive field instead of
being stretched (see :func:`upsample`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F

import torch
from torch import Tensor

__all__ = ["upsample"]


def _conv_offsets(conv: Any, layer_shape: Sequence[int], size: Sequence[int]
                  ) -> list[float | None] | None:
    """Per spatial axis, where map position 0 sits in the input (None: no such axis).

    For a stride-1 ``nn.Conv{1,2,3}d`` that runs at the input's resolution (its
    input, rebuilt from its output length, kernel, dilation and padding, is as
    long as the model's input on that axis), output position ``j`` is centred on
    input position ``j - padding + dilation * (kernel - 1) / 2``. Returns None
    when no axis qualifies.
    """
    if not isinstance(conv, torch.nn.modules.conv._ConvNd) or conv.transposed:
        return None
    k = len(layer_shape)
    if len(conv.kernel_size) != k or len(size) != k:
        return None
    offsets: list[float | None] = []
    for a in range(k):
        pad = conv.padding
        if isinstance(pad, str) and pad != "valid":  # 'same': as long as the input
            offsets.append(None)
            continue
        p_a = 0 if isinstance(pad, str) else int(pad[a])
        reach = int(conv.dilation[a]) * (int(conv.kernel_size[a]) - 1)
        in_len = int(layer_shape[a]) + reach - 2 * p_a
        if int(conv.stride[a]) == 1 and in_len == int(size[a]) and reach != 2 * p_a:
            offsets.append(reach / 2 - p_a)
        else:
            offsets.append(None)
    return offsets if any(o is not None for o in offsets) else None


def _resample(maps: Tensor, coords: Sequence[Tensor]) -> Tensor:
    """Separable linear interpolation of ``(n, L, *spatial)`` maps at per-axis
    source coordinates (clamped to the map, so edges repeat their value)."""
    out = maps
    for a, src in enumerate(coords):
        axis = 2 + a
        length = out.shape[axis]
        src = src.clamp(0, length - 1)
        lo = src.floor().long()
        hi = (lo + 1).clamp(max=length - 1)
        w = (src - lo).to(out.dtype)
        shape = [1] * out.ndim
        shape[axis] = -1
        w = w.reshape(shape)
        out = (out.index_select(axis, lo) * (1 - w) + out.index_select(axis, hi) * w)
    return out


def upsample(maps: Tensor, size: Sequence[int], conv: Any = None) -> Tensor:
    """Resize ``(n, L, *spatial)`` maps to ``size`` (bilinear in 2-D, linear in 1-D).

    ``align_corners=False``, so an upsampled map keeps the mean of the original.

    Parameters
    ----------
    maps : Tensor of shape (n, L, *spatial)
    size : sequence of int
        The input's spatial shape.
    conv : torch.nn.Module, optional
        The layer the maps come from. When it is a stride-1 ``nn.Conv1d``
        (``2d``, ``3d``) that runs at the input's resolution with less than
        'same' padding, its map is shorter than the input by
        ``dilation * (kernel - 1) - 2 * padding``; stretching it to the input
        would shift positions towards the edges (by up to half a kernel, so a
        token-level Grad-CAM peak lands on a neighbouring token). Along such
        axes, position ``j`` is placed at the centre of its receptive field,
        input ``j - padding + dilation * (kernel - 1) / 2``, linearly between
        positions and repeating the edge values beyond them. Other layers
        (pooled, strided) are resized.

    Returns
    -------
    Tensor of shape (n, L, *size)
    """
    size = tuple(int(s) for s in size)
    if tuple(maps.shape[2:]) == size:
        return maps
    offsets = None if conv is None else _conv_offsets(conv, maps.shape[2:], size)
    if offsets is None:
        mode = "bilinear" if maps.ndim == 4 else "linear"
        return F.interpolate(maps, size=size, mode=mode, align_corners=False)
    coords = []
    for a, (offset, n_in) in enumerate(zip(offsets, size, strict=True)):
        t = torch.arange(n_in, dtype=torch.float64, device=maps.device)
        if offset is None:  # as F.interpolate(align_corners=False)
            coords.append(((t + 0.5) * (maps.shape[2 + a] / n_in) - 0.5).clamp(min=0))
        else:
            coords.append(t - offset)
    return _resample(maps, coords)
