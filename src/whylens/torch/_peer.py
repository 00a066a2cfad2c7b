"""What captum's ``attribute`` and pytorch-grad-cam's call shapes share in whylens.

The peers' call shapes are thin adapters over whylens' own calls (DESIGN.md):
this module holds the pieces both bases use: reading captum's arguments
(positional order per method, ``inputs`` as a tensor or a 1-tuple), running a
call with captum's ``additional_forward_args`` (a forward pre-hook that hands
the extra arguments to every model call, removed when the call ends), and
pytorch-grad-cam's scaling of maps to [0, 1] per image.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch.nn.functional as F

import torch
from torch import Tensor
from whylens._locks import model_lock
from whylens.errors import InputError, InputTypeError, NotSupportedError, describe

__all__ = [
    "captum_arguments",
    "captum_inputs",
    "check_captum_flag",
    "check_target_objects",
    "forward_args",
    "per_row_args",
    "pgc_scale",
    "rows_of",
    "run_with_args",
    "unwrap_baselines",
]


def captum_arguments(method: str, args: Sequence[Any], kwargs: dict[str, Any],
                     positional: Sequence[str], accepted: Sequence[str]) -> dict[str, Any]:
    """captum's ``attribute(inputs, *args, **kwargs)`` as one dict of keyword arguments.

    Parameters
    ----------
    method : str
        The class name, for messages.
    args : sequence
        Positional arguments after ``inputs``, in captum's order ``positional``.
    kwargs : dict
    positional : sequence of str
        captum's order of the method's arguments after ``inputs``.
    accepted : sequence of str
        Every keyword the method takes.

    Returns
    -------
    dict

    Raises
    ------
    InputError
        Too many positional arguments, one given twice, or an unknown keyword.
    """
    if len(args) > len(positional):
        raise InputError(describe(
            "attribute", f"at most {len(positional) + 1} positional arguments for "
            f"{method} (inputs, {', '.join(positional)})", got_text=f"{len(args) + 1}",
            fix="Pass the others by keyword."))
    out = dict(kwargs)
    for name, value in zip(positional, args, strict=False):
        if name in out:
            raise InputError(describe(name, "one value", got_text="given by position and by "
                                      "keyword", fix=f"Pass {name}= once."))
        out[name] = value
    unknown = sorted(set(out) - set(accepted))
    if unknown:
        raise InputError(describe(
            unknown[0], f"an argument of {method}.attribute: one of {sorted(accepted)}",
            got_text=f"{unknown[0]}=", fix="captum's other options have no whylens "
            "counterpart for this method."))
    return out


def captum_inputs(inputs: Any, argument: str = "inputs") -> tuple[Any, bool]:
    """``inputs`` as one tensor, and whether it came as a 1-tuple (captum returns a tuple then).

    Raises
    ------
    NotSupportedError
        Several input tensors (whylens methods take one).
    """
    if isinstance(inputs, (tuple, list)):
        if len(inputs) != 1:
            raise NotSupportedError(describe(
                argument, "one input tensor (or a tuple of one)",
                got_text=f"a {type(inputs).__name__} of {len(inputs)} tensors",
                fix="Pass the other tensors as additional_forward_args=, or concatenate "
                    "them into one input."))
        return inputs[0], True
    return inputs, False


def _extra(args: Any) -> tuple[Any, ...]:
    if args is None:
        return ()
    return tuple(args) if isinstance(args, (tuple, list)) else (args,)


def per_row_args(args: Any, n: int) -> bool:
    """Whether captum's ``additional_forward_args`` hold tensors with one row per input."""
    return n > 1 and any(isinstance(a, Tensor) and a.ndim >= 1 and int(a.shape[0]) == n
                         for a in _extra(args))


def _row(args: Any, i: int, n: int) -> tuple[Any, ...]:
    return tuple(a[i : i + 1] if isinstance(a, Tensor) and a.ndim >= 1
                 and int(a.shape[0]) == n else a for a in _extra(args))


@contextlib.contextmanager
def forward_args(model: Any, args: Any) -> Iterator[None]:
    """Every call of ``model`` in the block gets ``args`` after its input (captum's rule).

    A tensor argument with one row (the row of the one explained instance) is
    expanded to the number of rows of each call (captum repeats it for every
    step or sample). A forward pre-hook does it, so layer names stay the
    model's; it is removed when the block ends, also on an exception.
    """
    extra = _extra(args)
    if not extra:
        yield
        return

    def hook(_module: Any, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
        m = int(inputs[0].shape[0])
        grown = tuple(a.expand(m, *a.shape[1:]) if isinstance(a, Tensor) and a.ndim >= 1
                      and int(a.shape[0]) == 1 else a for a in extra)
        return (*inputs, *grown)

    with model_lock(model):
        handle = model.register_forward_pre_hook(hook)
        try:
            yield
        finally:
            handle.remove()


def run_with_args(model: Any, n: int, args: Any,
                  call: Callable[[slice], tuple[Tensor, Tensor | None]]
                  ) -> tuple[Tensor, Tensor | None]:
    """``call(rows)`` with captum's ``additional_forward_args`` in every model call.

    Tensors with one row per instance are paired with their instance by
    calling one instance at a time (``call(slice(i, i + 1))``); otherwise one
    call for the batch (``call(slice(0, n))``).

    Parameters
    ----------
    n : int
        Rows of the explained batch.
    call : callable
        ``call(rows) -> (attributions, delta or None)`` for the rows of the
        slice ``rows``.
    """
    if not per_row_args(args, n):
        with forward_args(model, args):
            return call(slice(0, n))
    parts, deltas = [], []
    for i in range(n):
        with forward_args(model, _row(args, i, n)):
            a, d = call(slice(i, i + 1))
        parts.append(a)
        deltas.append(d)
    delta = None if deltas[0] is None else torch.cat(deltas)
    return torch.cat(parts), delta


def rows_of(value: Any, rows: slice, n: int) -> Any:
    """The rows ``rows`` of a per-instance tensor or sequence of length n; others as they are."""
    if rows == slice(0, n):
        return value
    if isinstance(value, Tensor) and value.ndim >= 1 and int(value.shape[0]) == n:
        return value[rows]
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
        return value[rows]
    if isinstance(value, (list, tuple)) and len(value) == n:
        return list(value[rows])
    return value


def check_captum_flag(name: str, value: Any, supported: Any) -> None:
    """Refuse a captum option whylens does not implement (with the value it supports)."""
    if value != supported:
        raise NotSupportedError(describe(name, f"{supported!r} (the only value whylens "
                                         "implements)", value))


def check_target_objects(targets: Any, n: int) -> list[Any] | None:
    """pytorch-grad-cam's ``targets``: None, or a list of n callables (ints allowed).

    Raises
    ------
    InputTypeError
        Not a list or tuple, or an entry that is neither callable nor an int.
    InputError
        A length other than n.
    """
    if targets is None:
        return None
    if not isinstance(targets, (list, tuple)):
        raise InputTypeError(describe(
            "targets", f"None or a list of {n} targets, one per image "
            "(e.g. [ClassifierOutputTarget(281)] * n)", targets))
    if len(targets) != n:
        raise InputError(describe(
            "targets", f"one target per image of input_tensor ({n})",
            got_text=f"{len(targets)} targets",
            fix="Give one whylens.torch.targets.ClassifierOutputTarget(k) per image."))
    for t in targets:
        if isinstance(t, bool) or not (callable(t) or isinstance(t, (int, np.integer))):
            raise InputTypeError(describe(
                "targets", "callables output -> score (ClassifierOutputTarget(k)...) or ints",
                t))
    return list(targets)


def pgc_scale(maps: Tensor, size: Sequence[int] | None) -> np.ndarray:
    """pytorch-grad-cam's ``scale_cam_image``: min-max per image, then resize.

    ``m - min`` divided by ``1e-7 + max``, in float32, then (when ``size`` is
    given) a bilinear resize with half-pixel centres (OpenCV's ``INTER_LINEAR``,
    which is ``F.interpolate(..., align_corners=False)``; linear for 1-D maps).

    Parameters
    ----------
    maps : Tensor of shape (n, *spatial)
    size : sequence of int, optional
        The spatial shape to resize to (height, width).

    Returns
    -------
    ndarray of float32, shape (n, *size)
    """
    m = maps.detach().to("cpu", torch.float32)
    flat = m.flatten(1)
    flat = flat - flat.amin(dim=1, keepdim=True)
    flat = flat / (1e-7 + flat.amax(dim=1, keepdim=True))
    m = flat.reshape(m.shape)
    if size is not None and tuple(m.shape[1:]) != tuple(size):
        mode = "bilinear" if m.ndim == 3 else "linear"
        m = F.interpolate(m[:, None], size=tuple(int(s) for s in size), mode=mode,
                          align_corners=False)[:, 0]
    return m.numpy().astype(np.float32)


def unwrap_baselines(baselines: Any) -> Any:
    """captum's ``baselines`` as a 1-tuple becomes its one entry."""
    if isinstance(baselines, (tuple, list)) and len(baselines) == 1 and isinstance(
            baselines[0], (Tensor, np.ndarray, int, float)):
        return baselines[0]
    return baselines
