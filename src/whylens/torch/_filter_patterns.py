"""Filter patterns: inputs that maximise a channel's mean activation (activation maximisation)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import torch
from whylens._convention import check_batch_size, checked_callback
from whylens._validation import check_positive_int, check_random_state, random_state_param
from whylens.errors import InputError, describe
from whylens.explanation import Explanation, Features
from whylens.models._torch import _module_float_dtype, module_device
from whylens.torch._feature_maps import check_channels
from whylens.torch._hooks import capture, get_layer, model_lock

__all__ = ["filter_patterns"]


def _input_shape(model: Any, size: int, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    if input_shape is not None:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) not in (2, 3) or min(shape) < 1:
            raise InputError(describe("input_shape", "(C, L) or (C, H, W) of positive sizes",
                                      input_shape))
        return shape
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            return (module.in_channels, size, size)
        if isinstance(module, torch.nn.Conv1d):
            return (module.in_channels, size)
    raise InputError(
        describe("input_shape", "the input's (C, H, W) when the model has no Conv1d/Conv2d",
                 None, "Pass input_shape=(3, 64, 64), for instance.")
    )


def _ascend(model: Any, name: str, chosen: Sequence[int], x: Any, shifts: np.ndarray,
            spatial_dims: tuple[int, ...], lr: float, weight_decay: float,
            step_done: Callable[[int], None]) -> tuple[Any, Any]:
    """Gradient ascent of rows ``x`` (row ``i`` on channel ``chosen[i]``), one step per shift.

    Returns
    -------
    x : Tensor of shape (k, *input_shape), the patterns
    reached : Tensor of shape (k,), float64 on the CPU: the mean activations at the last step
    """
    k = len(chosen)
    index = torch.as_tensor(list(chosen), device=x.device)
    rows = torch.arange(k, device=x.device)
    reached = torch.zeros(k, dtype=torch.float64)
    with capture(model, name, graph=True, stop=True) as cap:
        for shift_row in shifts:
            shift = tuple(int(s) for s in shift_row)
            xj = torch.roll(x, shift, spatial_dims).requires_grad_(True)
            cap.activations[name].clear()
            with torch.enable_grad():
                cap.run(xj)
                acts = cap.last()
                score = acts[rows, index]
                if score.ndim > 1:  # (k, *spatial): the mean over positions
                    score = score.flatten(1).mean(dim=1)
                (grad,) = torch.autograd.grad(score.sum(), xj)
            grad = torch.roll(grad, tuple(-s for s in shift), spatial_dims)
            rms = grad.flatten(1).pow(2).mean(dim=1).sqrt().clamp_min(1e-12)
            view = (k,) + (1,) * (grad.ndim - 1)
            with torch.no_grad():
                x = (x + lr * grad / rms.reshape(view)) * (1.0 - weight_decay)
            reached = score.detach().to("cpu", torch.float64)
            step_done(k)
    return x, reached


def filter_patterns(
    model: Any,
    layer: Any,
    channels: Sequence[int],
    steps: int = 64,
    size: int = 64,
    lr: float = 0.1,
    jitter: int = 2,
    weight_decay: float = 1e-3,
    input_shape: Sequence[int] | None = None,
    random_state: int | np.random.Generator | None = None,
    *,
    batch_size: int | None = None,
    progress: bool | None = None,
    callback: Callable[[int, int], Any] | None = None,
) -> Explanation:
    """Find the input pattern each channel of ``layer`` responds to most.

    Gradient ascent on the input, batched over channels (row ``k`` of the
    batch maximises channel ``channels[k]``): each step shifts the batch by a
    random jitter (``torch.roll``), takes the gradient of the channels' mean
    activations with respect to the input, normalises it per row (by its RMS),
    steps by ``lr`` and shrinks the input by ``weight_decay`` (L2
    regularisation). The forward pass stops at the layer. The same
    ``random_state`` gives the same patterns, whatever ``batch_size``. The
    model's lock is held for the whole call.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
    channels : sequence of int
        Channels of the layer's output to visualise.
    steps : int, default=64
        Gradient-ascent steps.
    size : int, default=64
        Height and width (or length) of the patterns.
    lr : float, default=0.1
        Step size of the normalised gradient.
    jitter : int, default=2
        Largest random shift in pixels per step (0 disables it).
    weight_decay : float, default=1e-3
        L2 shrinkage per step.
    input_shape : sequence of int, optional
        ``(C, H, W)`` or ``(C, L)``; default from the first Conv2d/Conv1d.
    random_state : int or numpy.random.Generator, optional
    batch_size : int, optional
        Channels ascended together (rows per forward); ``None``: all of them.
        Every group starts from its rows of the same draws and takes the same
        shifts, so the patterns do not depend on it.
    progress : bool, optional
        A tqdm bar over the steps (default: when stderr is a terminal).
    callback : callable, optional
        ``callback(done, total)`` after every step of every group, counting
        steps times channels (``total = steps * n_channels``); raising
        :class:`~whylens.errors.Cancelled` or returning ``False`` stops the call.

    Returns
    -------
    Explanation
        ``method="torch.filter_patterns"``; ``values`` of shape
        (1, n_channels, H, W, C) (channels-last patterns; (1, n_channels, L, C)
        in 1-D); ``labels`` the channels; ``output`` (1, n_channels) the mean
        activation each pattern reaches.

    Raises
    ------
    InputError
        Unknown layer, channel out of range, bad sizes.
    ModelError
        The model raised (chained).
    Cancelled
        The callback stopped the call.
    """
    steps = check_positive_int("steps", steps)
    size = check_positive_int("size", size)
    jitter = check_positive_int("jitter", jitter, minimum=0)
    for name_, value in (("lr", lr), ("weight_decay", weight_decay)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise InputError(describe(name_, "a non-negative number", value))
    batch_size = check_batch_size(batch_size)
    report = checked_callback(callback)
    name, _ = get_layer(model, layer)
    seed_param = random_state_param(random_state)
    rng = check_random_state(random_state)
    shape = _input_shape(model, size, input_shape)
    device, dtype = module_device(model), _module_float_dtype(model)
    with model_lock(model):
        # One probe forward to learn the number of channels.
        with capture(model, name, stop=True) as cap, torch.no_grad():
            cap.run(torch.zeros((1, *shape), device=device, dtype=dtype))
        n_channels = int(cap.last().shape[1])
        chosen = check_channels(channels, n_channels)
        k = len(chosen)
        init = rng.normal(0.0, 0.1, size=(k, *shape))
        spatial_dims = tuple(range(2, 2 + len(shape) - 1))
        shifts = rng.integers(-jitter, jitter + 1, size=(steps, len(spatial_dims)))
        group = k if batch_size is None else min(batch_size, k)
        bar = None
        if progress or (progress is None and sys.stderr.isatty()):
            from tqdm.auto import tqdm

            bar = tqdm(total=steps * k, desc="whylens: filter_patterns", unit="row steps",
                       leave=False)
        patterns, reached = [], []
        done = [0]

        def step_done(rows: int) -> None:
            done[0] += rows
            if bar is not None:
                bar.update(rows)
            if report is not None:
                report(done[0], steps * k)

        try:
            for start in range(0, k, group):
                x, score = _ascend(model, name, chosen[start : start + group],
                                   torch.as_tensor(init[start : start + group], device=device,
                                                   dtype=dtype),
                                   shifts, spatial_dims, lr, weight_decay, step_done)
                patterns.append(x)
                reached.append(score)
        finally:
            if bar is not None:
                bar.close()
    x = torch.cat(patterns)
    reached_all = torch.cat(reached)
    patterns = np.moveaxis(x.detach().to("cpu", torch.float64).numpy(), 1, -1)
    return Explanation(
        values=patterns[None],
        labels=np.asarray(chosen, dtype=np.int64),
        method="torch.filter_patterns",
        features=Features(kind="image" if len(shape) == 3 else "sequence", names=[]),
        mode="classification",
        output=reached_all.numpy()[None],
        params={"layer": name, "channels": chosen, "steps": steps, "size": size, "lr": lr,
                "jitter": jitter, "weight_decay": weight_decay, "input_shape": list(shape),
                "random_state": seed_param},
        n_evals=steps * k,
    )
