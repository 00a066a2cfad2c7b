"""What a CAM's :meth:`~whylens.torch.BaseCAM.compute` sees: :class:`CAMContext`.

A context holds rows of the input with their layer activations, outputs and
labels, and the three ways a CAM asks for more: the gradients of the
explained scores at the layer (:meth:`CAMContext.gradients`), the explained
scores themselves (:meth:`CAMContext.label_outputs`), and the scores at extra
inputs, evaluated in chunks through the one runner
(:meth:`CAMContext.scores`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

import torch
from torch import Tensor
from whylens.errors import InputError, NotSupportedError, describe
from whylens.models import Model
from whylens.models._chunks import ChunkReport
from whylens.representations._runner import evaluate_rows
from whylens.torch._hooks import capture
from whylens.torch._inputs import WORKING_FACTOR, call_model, call_raw

if TYPE_CHECKING:
    from whylens.torch._cam_base import BaseCAM

__all__ = ["CAMContext"]


class CAMContext:
    """What :meth:`BaseCAM.compute` sees: rows of the input with their layer and labels.

    A gradient CAM (``uses_gradients``) gets one context per chunk of rows,
    while the chunk's graph is alive; the other CAMs get one context for the
    whole batch.

    Attributes
    ----------
    x : Tensor of shape (m, ...)
        The input rows.
    activations : Tensor of shape (m, C, *spatial)
        The layer's output (last call of the layer), detached.
    output : Tensor of shape (m, n_outputs)
        The model's output at ``x``, detached.
    labels : ndarray of int64, shape (m, n_labels)
        The outputs explained for each row (row ``i`` explains
        ``labels[i, j]`` in map ``j``).
    input_shape : tuple of int
        Spatial shape of the input the maps are upsampled to.
    layer_module : torch.nn.Module or None
        The explained layer (its geometry decides how maps are upsampled).
    n_evals : int
        Rows forwarded for these rows so far (updated by :meth:`scores`).
    n_backward : int
        Backward passes so far (updated by :meth:`gradients`).
    chunks : ChunkReport or None
        How :meth:`scores` split its forwards.
    """

    def __init__(self, cam: BaseCAM, x: Tensor, output: Tensor, activations: Tensor,
                 labels: np.ndarray, input_shape: tuple[int, ...], *,
                 cap: capture | None = None, progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None,
                 targets: list[Any] | None = None, raw_output: Tensor | None = None) -> None:
        self._cam = cam
        self._cap = cap
        self._out = output
        #: pytorch-grad-cam's target callables of the rows (``target(output_row)``
        #: is the score explained), or None: the ``labels`` are.
        self.targets = targets
        self._raw = output if raw_output is None else raw_output
        self.x = x
        self.activations = activations.detach()
        self.output = output.detach()
        self.labels = labels
        self.input_shape = input_shape
        self.layer_module = dict(cam.model.named_modules()).get(cam.layer)
        self.n_evals = int(x.shape[0])
        self.n_backward = 0
        self.chunks: ChunkReport | None = None
        self._progress = progress
        self._callback = callback

    def gradients(self) -> Tensor:
        """Gradients of each row's labelled outputs with respect to the activations.

        One backward pass per label column (rows are independent, so the
        outputs summed over the rows give each row's gradient).

        Returns
        -------
        Tensor of shape (m, n_labels, C, *spatial)

        Raises
        ------
        NotSupportedError
            In a CAM whose ``uses_gradients`` is False.
        """
        if self._cap is None:
            raise NotSupportedError(
                describe("gradients", f"a CAM with uses_gradients=True ({self._cam.name})",
                         False))
        reshape = self._cam.reshape_transform
        if self.targets is not None:
            score = _target_scores(self.targets, self._raw).sum()
            g = self._cap.gradients(score)[self._cap.names[0]]
            self.n_backward += 1
            return (g if reshape is None else reshape(g))[:, None]
        labels = torch.as_tensor(self.labels, device=self._out.device)
        n_labels = int(labels.shape[1])
        grads = []
        for j in range(n_labels):
            score = self._out.gather(1, labels[:, j : j + 1]).sum()
            g = self._cap.gradients(score, retain_graph=j < n_labels - 1)[self._cap.names[0]]
            grads.append(g if reshape is None else reshape(g))
            self.n_backward += 1
        return torch.stack(grads, dim=1)

    def label_outputs(self) -> Tensor:
        """The explained scores at ``x``: ``(m, n_labels)`` (a target's score per row)."""
        if self.targets is not None:
            return _target_scores(self.targets, self._raw).detach()[:, None]
        labels = torch.as_tensor(self.labels, device=self.output.device)
        return self.output.gather(1, labels)

    def scores(self, perturbation: Any) -> Tensor:
        """Model outputs of each row's labels at extra inputs, through the one runner.

        The extra inputs are evaluated by
        :func:`whylens.representations.evaluate_rows` on a
        :class:`~whylens.models.Model` built from the CAM's ``batch_size`` and
        ``memory_budget`` (every chunk ``batch_size`` rows; without it, at most
        what the budget allows, and a job of several such chunks first times a
        few sizes on its own first rows and goes on in the fastest, remembered
        in the CAM's ``tuned_chunk_sizes``), with the call's ``progress`` and
        ``callback``.

        Parameters
        ----------
        perturbation : object
            ``n_rows``; ``instances(rows) -> Tensor`` (the row of ``x`` each
            extra input belongs to); ``apply(rows) -> batch`` (model inputs of a
            chunk of extra rows, with ``shape`` and ``dtype``); ``replace(batch)``
            -> callable or None (what the layer passes on instead of its output,
            ``replace(name, output)``). See
            :class:`whylens.torch._cams_perturbation.ChannelPerturbation`.

        Returns
        -------
        Tensor of shape (n_rows, n_labels)
            On the model's device, in the dtype of the model's output.
        """
        cam, name = self._cam, self._cam.layer

        targets = self.targets

        def forward(batch: Any) -> Tensor:
            with capture(cam.model, name, record=False, replace=perturbation.replace(batch)), \
                    torch.no_grad():
                if targets is None:
                    return call_model(cam.model, batch.inputs)
                raw = call_raw(cam.model, batch.inputs)
                rows = batch.instances.tolist()
                return _target_scores([targets[i] for i in rows], raw)[:, None]

        model = Model(forward, chunk_size=cam.batch_size, memory_budget=cam.memory_budget,
                      working_factor=WORKING_FACTOR, kind="torch", name=f"{cam.name} forwards")
        model.tuned_chunk_sizes = cam.tuned_chunk_sizes  # a probe's choice serves later calls
        rows = torch.arange(int(perturbation.n_rows), device=self.x.device)
        outputs = evaluate_rows(model, rows, to_model=perturbation.apply,
                                progress=self._progress, callback=self._callback,
                                unit="forwards")
        self.n_evals += model.n_evaluated
        self.chunks = cam.last_chunks = model.last_chunks
        instance = perturbation.instances(rows).cpu().numpy()
        picked = (outputs if targets is not None
                  else np.take_along_axis(outputs, self.labels[instance], axis=1))
        return torch.as_tensor(picked).to(self.output.device, self.output.dtype)


def _target_scores(targets: list[Any], raw: Tensor) -> Tensor:
    """``targets[i](raw[i])`` for every row, as a (m,) tensor (pytorch-grad-cam's rule)."""
    scores = []
    for t, o in zip(targets, raw, strict=True):
        value = t(o)
        if not isinstance(value, Tensor):
            value = torch.as_tensor(value, dtype=raw.dtype, device=raw.device)
        if value.numel() != 1:
            raise InputError(describe(
                "targets", "callables that return one score per image",
                got_text=f"{type(t).__name__} returning shape {tuple(value.shape)}"))
        scores.append(value.reshape(()))
    return torch.stack(scores)

