"""The arguments of the gradient attributions, checked with messages that name them.

``batch_size`` (and captum's name for it), the labels a call explains
(``target=`` or ``labels=``), reference rows (``baselines=``, DeepShap's and
GradientShap's background) and the methods' numeric options (``stdevs``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import torch
from torch import Tensor
from whylens._convention import check_batch_size, resolve_labels_argument, resolve_target
from whylens.errors import InputError, InputTypeError, describe
from whylens.torch._inputs import check_finite

__all__ = [
    "baseline_rows",
    "batch_size_argument",
    "check_float",
    "explained_labels",
    "pair_index",
]


def batch_size_argument(batch_size: Any, internal_batch_size: Any) -> int | None:
    """``batch_size``, or captum's name for it, ``internal_batch_size``.

    Raises
    ------
    InputError, InputTypeError
        Not a positive int or None, or both given and different.
    """
    size = check_batch_size(batch_size)
    alias = check_batch_size(internal_batch_size, "internal_batch_size")
    if alias is None:
        return size
    if size is not None and size != alias:
        raise InputError(describe(
            "internal_batch_size", f"None or batch_size ({size}): it is captum's name for "
            "batch_size", alias, "Pass one of batch_size= and internal_batch_size=."))
    return alias


def explained_labels(target: Any, labels: Any, output: Tensor) -> np.ndarray:
    """The labels of each row, (n, n_labels), from ``target=`` or ``labels=``.

    Raises
    ------
    InputError, InputTypeError
        Both given, or a target or label the output does not have.
    """
    if labels is None:
        return resolve_target(target, output)
    if target is not None:
        raise InputError(describe(
            "labels", "None when target= is given", labels,
            "Pass target= (one output, or one per row) or labels= (several outputs "
            "for every row), not both."))
    chosen = resolve_labels_argument(labels, int(output.shape[1]))
    return np.broadcast_to(chosen, (int(output.shape[0]), len(chosen))).copy()


def baseline_rows(baselines: Any, x: Tensor, argument: str = "baselines",
                  per_instance: bool = True) -> Tensor:
    """Baselines as a tensor of shape (k, *x.shape[1:]) on x's device and dtype.

    ``None``: one row of zeros. A scalar fills a row. A tensor of shape
    ``x.shape[1:]`` is one row; ``(k, *x.shape[1:])`` are k rows. With
    ``per_instance`` k must be 1 or ``len(x)``.

    Raises
    ------
    InputTypeError, InputError
        Another type, or another shape.
    """
    if baselines is None:
        return torch.zeros_like(x[:1])
    if isinstance(baselines, (int, float)) and not isinstance(baselines, bool):
        baselines = torch.full_like(x[:1], baselines)
    if isinstance(baselines, np.ndarray):
        baselines = torch.from_numpy(np.ascontiguousarray(baselines))
    if not isinstance(baselines, Tensor):
        raise InputTypeError(
            describe(argument, "None, a number or a tensor shaped like x's rows", baselines)
        )
    b = baselines.to(device=x.device, dtype=x.dtype)
    if tuple(b.shape) == tuple(x.shape[1:]):
        b = b[None]
    n = int(x.shape[0])
    ok = b.ndim == x.ndim and tuple(b.shape[1:]) == tuple(x.shape[1:]) and b.shape[0] >= 1
    if per_instance:
        ok = ok and b.shape[0] in (1, n)
    if not ok:
        rows = f"1 or {n}" if per_instance else "k >= 1"
        raise InputError(
            describe(argument, f"a tensor of shape ({rows}, {', '.join(map(str, x.shape[1:]))})"
                     " or one row", got_text=f"shape {tuple(baselines.shape)}",
                     fix="Give one reference row for all, or one per instance.")
        )
    if b.is_floating_point():
        check_finite(argument, b, "Give finite reference rows (zeros, a blurred input, "
                                  "training rows).")
    return b


def pair_index(b: Tensor, n: int) -> Tensor:
    """The baseline row of each of the n instances (one row shared, or one each)."""
    return torch.arange(n, device=b.device) if b.shape[0] == n else torch.zeros(
        n, dtype=torch.int64, device=b.device)


def check_float(name: str, value: Any, minimum: float = 0.0) -> float:
    """``value`` as a float, checked to be a number >= ``minimum``.

    Raises
    ------
    InputTypeError
        Not a number (a bool is not one).
    InputError
        Less than ``minimum``, or NaN.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputTypeError(describe(name, f"a number >= {minimum}", value))
    if not value >= minimum:
        raise InputError(describe(name, f"a number >= {minimum}", value))
    return float(value)
