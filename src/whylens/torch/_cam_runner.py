"""One call of a CAM: the main pass over the rows, in chunks, and what it gives.

:func:`run_cam` is the work behind every call shape of
:class:`~whylens.torch.BaseCAM` (whylens' call, pytorch-grad-cam's and
captum's): under the model's lock, the rows go through the model one chunk at
a time (:func:`whylens.torch._inputs.run_rows`) with the layer captured; a
gradient CAM computes each chunk's maps while the chunk's graph is alive, the
other CAMs compute all maps at the end from the collected activations. The
answer, :class:`CAMResult`, holds the maps at the layer's resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

import torch
from torch import Tensor
from whylens._convention import checked_callback, resolve_labels_argument, resolve_target
from whylens.errors import InputError, NotSupportedError, describe
from whylens.models._torch import _module_float_dtype
from whylens.torch._cam_context import CAMContext
from whylens.torch._hooks import capture, check_same_device, model_lock
from whylens.torch._inputs import as_input, call_model, call_raw, run_rows
from whylens.torch._layers import default_layer

if TYPE_CHECKING:
    from whylens.torch._cam_base import BaseCAM

__all__ = ["CAMResult", "run_cam"]


def _reshaped(reshape: Callable[[Tensor], Tensor], acts: Tensor) -> Tensor:
    """``reshape_transform(acts)``, checked to be ``(m, C, *spatial)``."""
    out = reshape(acts)
    if not isinstance(out, Tensor) or out.ndim not in (3, 4) or int(out.shape[0]) != int(
            acts.shape[0]):
        raise InputError(describe(
            "reshape_transform", "a function from the layer's output to (n, C, H, W) "
            "(e.g. whylens.torch.vit_reshape_transform for ViT tokens)",
            got_text=f"{type(out).__name__} of shape "
                     f"{tuple(out.shape) if isinstance(out, Tensor) else '?'} from the "
                     f"layer's {tuple(acts.shape)}"))
    return out


class _Call:
    """One call of a CAM: the convention's arguments, the main pass, its results."""

    def __init__(self, cam: BaseCAM, x: Tensor, target: Any, labels: Any,
                 progress: bool | None, callback: Any, *, targets: list[Any] | None = None,
                 relu: bool = True) -> None:
        self.cam = cam
        self.targets = targets
        self.relu = relu
        self.x = x
        self.n = int(x.shape[0])
        self.target = target
        self.label_list = labels
        self.progress = progress
        self.user_callback = checked_callback(callback)
        self.labels: np.ndarray | None = None  # (n, n_labels) unless the target is None
        self.input_shape: tuple[int, ...] = ()
        self.total = self.n
        self.done = 0
        self.maps: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.activations: list[Tensor] = []
        self.chunk_labels: list[np.ndarray] = []
        self.raw_outputs: list[Tensor] = []
        self.n_backward = 0
        self.chunk = 0  # most rows in one chunk of the main pass

    def report(self, offset: int) -> Callable[[int, int], None] | None:
        """The user's callback for one part of the work, as (done, total) of the whole call."""
        if self.user_callback is None:
            return None
        user = self.user_callback
        return lambda done, _total: user(offset + done, self.total)

    def resolve(self, out: Tensor) -> np.ndarray:
        """The labels of the rows of ``out`` (the next rows of the call)."""
        start, stop = self.done, self.done + int(out.shape[0])
        k = int(out.shape[1])
        if self.labels is None and (self.target is not None or self.label_list is not None):
            if self.label_list is not None:
                if self.target is not None:
                    raise InputError(describe(
                        "labels", "either target= (one label per row) or labels= (several "
                        "for every row), not both", self.label_list,
                        "Drop target= to explain the listed labels for every row."))
                chosen = resolve_labels_argument(self.label_list, k)
                self.labels = np.broadcast_to(chosen, (self.n, chosen.size)).copy()
            else:
                self.labels = resolve_target(self.target, np.zeros((self.n, k)))
        if self.labels is None:  # each row's predicted class
            return resolve_target(None, out.detach())
        return self.labels[start:stop]

    def check_layer(self, acts: Tensor) -> None:
        layer = self.cam.layer
        positions = int(np.prod(acts.shape[2:])) if acts.ndim >= 3 else 1
        if acts.ndim not in (3, 4) or positions < 2:
            raise InputError(
                describe("layer", "a spatial layer with output (n, C, L) or (n, C, H, W)",
                         got_text=f"{layer!r} with output shape {tuple(acts.shape)}",
                         fix="Pick a convolutional layer before global pooling; "
                             "whylens.torch.layers(model, x) marks them spatial=True.")
            )
        k = acts.ndim - 2
        if self.x.ndim - 1 < k:
            raise InputError(
                describe("x", f"an input with {k} spatial dimension(s) after the batch",
                         got_text=f"shape {tuple(self.x.shape)}")
            )
        self.input_shape = tuple(int(s) for s in self.x.shape[-k:])

    def forward(self, rows: Tensor) -> Tensor:
        """The main pass on the next chunk of rows: output, activations, gradient maps."""
        cam = self.cam
        grad_mode = torch.enable_grad() if cam.uses_gradients else torch.no_grad()
        m = int(rows.shape[0])
        with capture(cam.model, cam.layer, gradients=cam.uses_gradients) as cap:
            with grad_mode:
                raw = (call_model(cam.model, rows) if self.targets is None
                       else call_raw(cam.model, rows))
            acts = cap.last()
        if cam.reshape_transform is not None:
            acts = _reshaped(cam.reshape_transform, acts)
        out = raw if raw.ndim == 2 else raw.reshape(m, -1)
        if not self.input_shape:
            self.check_layer(acts)
            if cam.forwards_per_channel:
                self.total = self.n * (1 + int(acts.shape[1]))
        targets = None if self.targets is None else self.targets[self.done : self.done + m]
        labels = self.resolve(out) if targets is None else np.zeros((m, 1), dtype=np.int64)
        self.done += m
        self.chunk = max(self.chunk, m)
        self.chunk_labels.append(labels)
        if cam.uses_gradients:
            ctx = CAMContext(cam, rows, out, acts, labels, self.input_shape, cap=cap,
                             targets=targets, raw_output=raw)
            maps = cam.compute(ctx).detach()
            self.maps.append(torch.relu(maps) if self.relu else maps)
            self.n_backward += ctx.n_backward
        else:
            self.activations.append(acts.detach())
            self.outputs.append(out.detach())
            self.raw_outputs.append(raw.detach())
        return out.detach()


def run_cam(cam: BaseCAM, x: Any, target: Any, labels: Any, progress: bool | None,
            callback: Callable[[int, int], Any] | None, *,
            targets: list[Any] | None = None, relu: bool = True) -> CAMResult:
    """A call's work: the maps at the layer's resolution and what came with them.

    ``target`` and ``labels`` are whylens' (``BaseCAM.__call__``);
    ``targets`` are pytorch-grad-cam's callables, one per row; ``relu=False``
    keeps the maps' signs (captum's ``relu_attributions=False``).

    Returns
    -------
    CAMResult

    Raises
    ------
    NotSupportedError
        Several target layers (only pytorch-grad-cam's call shape averages them).
    InputError, ModelError
        Bad input or target; the model raised.
    Cancelled
        The callback stopped the work.
    """
    if cam.layers is not None and len(cam.layers) > 1:
        raise NotSupportedError(describe(
            "target_layers", "one layer for an Explanation or captum's attribute",
            cam.layers, "Call cam(input_tensor=x, targets=...) for pytorch-grad-cam's "
            "mean over several layers."))
    x = as_input(x)
    with model_lock(cam.model):
        check_same_device(cam.model, x)
        if x.is_floating_point():
            x = x.to(_module_float_dtype(cam.model))
        if cam.layer is None:
            cam.layer = default_layer(cam.model, x[:1])
        call = _Call(cam, x, target, labels, progress, callback, targets=targets, relu=relu)
        output = run_rows(call.forward, x, batch_size=cam.batch_size,
                          memory_budget=cam.memory_budget, name=cam.name,
                          progress=progress, callback=call.report(0))
        row_labels = np.concatenate(call.chunk_labels, axis=0)
        n_evals, n_backward = call.n, call.n_backward
        if cam.uses_gradients:
            maps = torch.cat(call.maps, dim=0)
            chunk = call.chunk
        else:
            ctx = CAMContext(cam, x, torch.cat(call.outputs), torch.cat(call.activations),
                             row_labels, call.input_shape, progress=progress,
                             callback=call.report(call.n), targets=targets,
                             raw_output=torch.cat(call.raw_outputs))
            maps = cam.compute(ctx).detach()
            maps = torch.relu(maps) if relu else maps
            n_evals = ctx.n_evals
            chunk = ctx.chunks.cap if ctx.chunks is not None else call.n
        layer_module = dict(cam.model.named_modules()).get(cam.layer)
    return CAMResult(x, maps, row_labels, output, call.input_shape, layer_module, n_evals,
                     n_backward, chunk)


class CAMResult:
    """What one pass of a CAM gives (maps at the layer's resolution, before upsampling)."""

    def __init__(self, x: Tensor, maps: Tensor, row_labels: np.ndarray, output: np.ndarray,
                 input_shape: tuple[int, ...], layer_module: Any, n_evals: int,
                 n_backward: int, chunk: int) -> None:
        self.x = x
        self.maps = maps
        self.row_labels = row_labels
        self.output = output
        self.input_shape = input_shape
        self.layer_module = layer_module
        self.n_evals = n_evals
        self.n_backward = n_backward
        self.chunk = chunk
