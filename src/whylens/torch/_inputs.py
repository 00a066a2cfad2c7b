"""What the torch methods share before and after their model calls.

:func:`as_input` validates an input batch, :func:`call_model` runs the model
on it with a clear error, :func:`run_rows` runs a method's main pass over the
rows in chunks as a model call (``batch_size``, ``memory_budget``,
``progress``, ``callback``), :func:`weighted_sum` is the CAMs' channel sum and
:func:`to_channels_last` gives the input for ``Explanation.features.data``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import torch
from torch import Tensor
from whylens._convention import check_batch_size
from whylens.errors import (
    InputError,
    InputTypeError,
    ModelError,
    ModelOutputError,
    WhylensError,
    describe,
)
from whylens.models import Model

__all__ = [
    "WORKING_FACTOR",
    "as_input",
    "call_model",
    "call_raw",
    "check_finite",
    "run_rows",
    "to_channels_last",
    "weighted_sum",
]

#: Estimated working memory of a CAM's forward per byte of input (activations,
#: the autograd graph of a gradient CAM); sizes chunks from ``memory_budget``.
WORKING_FACTOR = 16.0


def as_input(x: Any) -> Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise InputTypeError(
            describe("x", "a torch.Tensor (or ndarray) with a batch dimension", x)
        )
    if x.ndim < 2:
        raise InputError(
            describe("x", "a batch of shape (n, ...), e.g. (n, C, H, W) images",
                     got_text=f"shape {tuple(x.shape)}",
                     fix="Add the batch dimension: x[None] or x.unsqueeze(0).")
        )
    if x.shape[0] == 0:
        raise InputError(describe("x", "a batch of at least one row",
                                  got_text=f"an empty batch of shape {tuple(x.shape)}"))
    if x.is_floating_point() or x.is_complex():
        check_finite("x", x, "Impute or drop the rows with missing values first.")
    return x


def check_finite(argument: str, t: Tensor, fix: str) -> None:
    """Raise unless every entry of the floating-point tensor ``t`` is finite.

    A NaN in an input or a baseline gives NaN maps without any error.

    Raises
    ------
    InputError
        Naming ``argument`` and the first row with NaN or infinity.
    """
    bad = ~torch.isfinite(t.detach())
    if bool(bad.any()):
        rows = torch.nonzero(bad.reshape(bad.shape[0], -1).any(dim=1)).reshape(-1)
        raise InputError(describe(
            argument, "finite numbers", got_text=f"NaN or infinity in {rows.numel()} row(s) "
            f"(first: row {int(rows[0])})", fix=fix))


def to_channels_last(x: Tensor) -> np.ndarray:
    data = x.detach().to("cpu").numpy()
    if data.ndim == 4:
        data = np.moveaxis(data, 1, -1)
    return np.ascontiguousarray(data)


def call_raw(model: Any, x: Tensor) -> Tensor:
    """``model(x)``, any tensor with one row per input row (the first of a tuple output).

    Raises
    ------
    ModelError
        The model raised (chained).
    ModelOutputError
        Not a tensor, or not one row per input row.
    """
    try:
        out = model(x)
    except WhylensError:
        raise
    except Exception as exc:
        raise ModelError(
            f"model {type(model).__name__!r} raised {type(exc).__name__} on an input of "
            f"shape {tuple(x.shape)}; see the chained exception above."
        ) from exc
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, torch.Tensor) or out.ndim < 1 or int(out.shape[0]) != int(x.shape[0]):
        raise ModelOutputError(describe(
            "output of the model", f"a tensor with one row per input row ({x.shape[0]})",
            out if not isinstance(out, torch.Tensor) else None,
            got_text=None if not isinstance(out, torch.Tensor) else f"shape {tuple(out.shape)}"))
    return out


def call_model(model: Any, x: Tensor) -> Tensor:
    """``model(x)`` as an (n, n_outputs) tensor; the model's own errors as ModelError."""
    out = call_raw(model, x)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2:
        raise ModelOutputError(
            describe("output of the model", f"a tensor of shape ({x.shape[0]}, n_outputs)",
                     got_text=f"shape {tuple(out.shape)}",
                     fix="CAMs explain classifier outputs (one score per class).")
        )
    return out


def weighted_sum(weights: Tensor, acts: Tensor) -> Tensor:
    """sum_k weights[n, l, k] * acts[n, k, ...] -> (n, l, ...)."""
    return (weights[(...,) + (None,) * (acts.ndim - 2)] * acts[:, None]).sum(dim=2)


def run_rows(forward: Callable[[Tensor], Any], x: Tensor, *, batch_size: int | None,
             memory_budget: int, name: str, progress: bool | None = None,
             callback: Callable[[int, int], Any] | None = None) -> np.ndarray:
    """Run ``forward`` over the rows of ``x`` in chunks, as a model call.

    The torch methods' main pass (a CAM's forward and backward, a feature
    map's forward to the layer) goes through :meth:`Model.call_chunked`, so
    ``batch_size``, ``memory_budget``, ``progress`` and ``callback`` mean
    what they mean for every model call. Chunks are the budget's (no timing
    probe), in order.

    Parameters
    ----------
    forward : callable
        ``forward(rows) -> (m, k)`` tensor or array for the next chunk of rows.
    x : Tensor of shape (n, ...)
    batch_size : int or None
        Rows per chunk; None: as many as ``memory_budget`` allows (estimated
        as 16 times the rows' bytes).
    memory_budget : int
    name : str
        Names the work in the progress bar.
    progress, callback
        As in :func:`whylens.representations.evaluate`.

    Returns
    -------
    ndarray of shape (n, k), float64

    Raises
    ------
    InputError
        A bad ``batch_size``; whylens' own errors raised by ``forward`` (a
        layer that is not spatial, a target out of range) as they are.
    ModelError
        The model raised (chained).
    Cancelled
        The callback stopped the work.
    """
    main = Model(forward, chunk_size=check_batch_size(batch_size), memory_budget=memory_budget,
                 working_factor=WORKING_FACTOR, kind="torch", name=name, probe_chunks=False)
    try:
        return main.call_chunked(int(x.shape[0]), lambda start, stop: x[start:stop],
                                 sample=x[:1], progress=progress, callback=callback)
    except ModelError as exc:
        # whylens' own errors raised inside ``forward`` are about the arguments,
        # not the model: Model wraps every exception of its function
        cause = exc.__cause__
        if isinstance(cause, WhylensError) and not isinstance(
                cause, (ModelError, ModelOutputError)):
            raise cause from None
        raise
