"""Tokens of a vision transformer as a grid of channels, for CAMs and feature maps.

A transformer block outputs ``(n, tokens, dim)``; a CAM needs ``(n, C, H, W)``.
These are pytorch-grad-cam's ``vit_reshape_transform`` and
``swinT_reshape_transform``, with the grid found from the token count when it
is not given.
"""

from __future__ import annotations

import math

from torch import Tensor
from whylens.errors import InputError, describe

__all__ = ["swint_reshape_transform", "vit_reshape_transform"]


def _grid(n_tokens: int, height: int | None, width: int | None, argument: str) -> tuple[int, int]:
    if height is None and width is None:
        side = math.isqrt(n_tokens)
        height = width = side
    elif height is None:
        height = n_tokens // int(width)  # type: ignore[arg-type]
    elif width is None:
        width = n_tokens // int(height)
    if int(height) * int(width) != n_tokens:  # type: ignore[arg-type]
        raise InputError(describe(
            argument, f"a grid of height x width = {n_tokens} patch tokens",
            got_text=f"height={height}, width={width}",
            fix="Pass height= and width= (the patch grid, e.g. 14 x 14 for 224 / 16)."))
    return int(height), int(width)  # type: ignore[arg-type]


def vit_reshape_transform(tensor: Tensor, height: int | None = None, width: int | None = None,
                          *, prefix_tokens: int = 1) -> Tensor:
    """ViT tokens ``(n, prefix + h*w, dim)`` -> ``(n, dim, h, w)``, dropping the class token.

    Parameters
    ----------
    tensor : Tensor of shape (n, tokens, dim)
    height, width : int, optional
        The patch grid; None: a square grid from the token count.
    prefix_tokens : int, default=1
        Tokens before the patches (the class token; 2 with a distillation token).

    Returns
    -------
    Tensor of shape (n, dim, height, width)

    Raises
    ------
    InputError
        A tensor that is not ``(n, tokens, dim)``, or a grid that does not
        hold the patch tokens.
    """
    if tensor.ndim != 3:
        raise InputError(describe("reshape_transform", "tokens of shape (n, tokens, dim)",
                                  got_text=f"shape {tuple(tensor.shape)}"))
    patches = tensor[:, prefix_tokens:, :]
    h, w = _grid(int(patches.shape[1]), height, width, "vit_reshape_transform")
    return patches.reshape(tensor.shape[0], h, w, tensor.shape[2]).permute(0, 3, 1, 2)


def swint_reshape_transform(tensor: Tensor, height: int | None = None,
                            width: int | None = None) -> Tensor:
    """Swin tokens ``(n, h*w, dim)`` (or ``(n, h, w, dim)``) -> ``(n, dim, h, w)``.

    Returns
    -------
    Tensor of shape (n, dim, height, width)
    """
    if tensor.ndim == 4:
        return tensor.permute(0, 3, 1, 2)
    if tensor.ndim != 3:
        raise InputError(describe("reshape_transform", "tokens of shape (n, tokens, dim)",
                                  got_text=f"shape {tuple(tensor.shape)}"))
    h, w = _grid(int(tensor.shape[1]), height, width, "swint_reshape_transform")
    return tensor.reshape(tensor.shape[0], h, w, tensor.shape[2]).permute(0, 3, 1, 2)
