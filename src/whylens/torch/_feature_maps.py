"""Feature maps: what one layer outputs for an input, channels ranked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import torch
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.torch._hooks import capture, check_same_device, get_layer, model_lock
from whylens.torch._inputs import as_input, run_rows, to_channels_last

__all__ = ["check_channels", "feature_maps"]


def check_channels(channels: Any, n_channels: int, argument: str = "channels") -> list[int]:
    """Return ``channels`` as a list of ints in ``[0, n_channels)``.

    Raises
    ------
    InputTypeError
        Not a sequence of ints.
    InputError
        Empty, or an index out of range.
    """
    if isinstance(channels, (int, np.integer)) and not isinstance(channels, bool):
        channels = [channels]
    try:
        items = list(channels)
    except TypeError as exc:
        raise InputTypeError(describe(argument, "a sequence of channel indices", channels)
                             ) from exc
    if not items or any(isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer))
                        for c in items):
        raise InputTypeError(
            describe(argument, "a non-empty sequence of int channel indices", channels)
        )
    bad = [int(c) for c in items if not 0 <= c < n_channels]
    if bad:
        raise InputError(
            describe(argument, f"channel indices in [0, {n_channels})", bad,
                     f"The layer has {n_channels} channels.")
        )
    return [int(c) for c in items]


def feature_maps(model: Any, x: Any, layer: Any, channels: Sequence[int] | None = None, *,
                 batch_size: int | None = None, memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None,
                 reshape_transform: Callable[[Any], Any] | None = None) -> Explanation:
    """Return a layer's activations for ``x``, channels ranked by mean activation.

    The forward stops at the layer; rows go through it in chunks
    (:meth:`whylens.models.Model.call_chunked`), holding the model's lock for
    the whole call. A layer called several times in one forward (a shared
    block) gives its last call's output, as the CAMs and
    :func:`whylens.torch.layers` do.

    Parameters
    ----------
    model : torch.nn.Module
    x : Tensor of shape (n, ...)
        Inputs as the model takes them, on the model's device.
    layer : str or torch.nn.Module
        Any layer whose output is one tensor ``(n, C, *spatial)``.
    channels : sequence of int, optional
        Which channels, in this order. ``None``: every channel, ranked by
        decreasing mean activation over the batch and positions.
    batch_size : int, optional
        Rows per forward. ``None``: as many as ``memory_budget`` allows.
    memory_budget : int, default=256 MiB
        Bytes one chunk may use (estimated as 16 times its inputs).
    progress : bool, optional
        A tqdm bar (default: when stderr is a terminal and there are several chunks).
    callback : callable, optional
        ``callback(done, total)`` after every chunk of rows; raising
        :class:`~whylens.errors.Cancelled` or returning ``False`` stops the call.
    reshape_transform : callable, optional
        Applied to the layer's output first: a vision transformer's tokens
        ``(n, T, D)`` to a grid ``(n, D, h, w)``
        (:func:`whylens.torch.vit_reshape_transform`), as the CAMs' argument.

    Returns
    -------
    Explanation
        ``method="torch.feature_maps"``; ``values`` of shape
        (n, n_channels, *spatial) are the activations; ``labels`` are the
        channel indices; ``base_values`` (n, n_channels) their means.
        Plot it with :func:`whylens.plot.feature_map_grid`.

    Raises
    ------
    InputError
        Unknown layer, channel out of range, input on another device, a bad
        ``batch_size``.
    ModelError
        The model raised (chained).
    Cancelled
        The callback stopped the call.
    """
    x = as_input(x)
    name, _ = get_layer(model, layer)
    if reshape_transform is not None and not callable(reshape_transform):
        raise InputTypeError(describe("reshape_transform", "None or a function tokens -> "
                                      "(n, C, H, W)", reshape_transform))
    parts: list[Any] = []

    calls = [1]

    def forward(rows: Any) -> Any:
        with capture(model, name, stop=calls[0]) as cap, torch.no_grad():
            cap.run(rows)
        acts = cap.last()
        if reshape_transform is not None:
            acts = reshape_transform(acts)
        acts = acts.to("cpu", torch.float64)
        if acts.ndim < 2:
            raise InputError(describe("layer", "a layer with output (n, C, ...)",
                                      got_text=f"{name!r} with output shape "
                                               f"{tuple(acts.shape)}"))
        parts.append(acts.numpy())
        return acts.flatten(2).mean(dim=2)  # (m, C)

    with model_lock(model):
        check_same_device(model, x)
        with capture(model, name) as probe, torch.no_grad():  # how often the layer runs
            probe.run(x[:1])
        calls[0] = max(1, len(probe.activations[name]))
        means = run_rows(forward, x, batch_size=batch_size, memory_budget=memory_budget,
                         name="feature_maps", progress=progress, callback=callback)
    acts = np.concatenate(parts, axis=0)
    if channels is None:
        order = np.argsort(-means.mean(axis=0), kind="stable").tolist()
    else:
        order = check_channels(channels, acts.shape[1])
    spatial = acts.ndim - 2
    return Explanation(
        values=acts[:, order],
        labels=np.asarray(order, dtype=np.int64),
        method="torch.feature_maps",
        features=Features(kind="image" if spatial == 2 else "sequence", names=[],
                          data=to_channels_last(x)),
        mode="classification",
        base_values=means[:, order],
        params={"layer": name, "channels": None if channels is None else order},
        n_evals=int(x.shape[0]),
    )
