"""The base of every class activation map: :class:`BaseCAM` and what it hands to a CAM.

Every CAM runs the model on the input with the layer's activations captured
(:class:`whylens.torch.capture`), one chunk of rows at a time through
:meth:`whylens.models.Model.call_chunked` (so ``batch_size``,
``memory_budget``, ``progress`` and ``callback`` act as in every other
explainer), then turns them into one map per instance and label in
:meth:`BaseCAM.compute`, the one override point. The base class validates the
input, target and layer, holds the model's lock for the whole call, restores
the model, upsamples the map to the input and returns an
:class:`~whylens.Explanation`. The CAMs themselves live in
:mod:`whylens.torch._cams` (gradient CAMs, the factory) and
:mod:`whylens.torch._cams_perturbation` (Score-CAM, Ablation-CAM, Eigen-CAM).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import torch
from torch import Tensor
from whylens._convention import (
    check_batch_size,
    checked_callback,
    resolve_labels_argument,
    resolve_target,
)
from whylens._validation import check_positive_int
from whylens.errors import (
    InputError,
    describe,
)
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET, Model
from whylens.models._chunks import ChunkReport
from whylens.models._torch import _module_float_dtype
from whylens.representations._runner import evaluate_rows
from whylens.torch._hooks import capture, check_module_and_layer, check_same_device, model_lock
from whylens.torch._inputs import (
    WORKING_FACTOR,
    as_input,
    call_model,
    run_rows,
    to_channels_last,
)
from whylens.torch._layers import default_layer
from whylens.torch._upsample import upsample

__all__ = ["BaseCAM", "CAMContext", "run_rows"]

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
                 callback: Callable[[int, int], Any] | None = None) -> None:
        self._cam = cam
        self._cap = cap
        self._out = output
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
            from whylens.errors import NotSupportedError

            raise NotSupportedError(
                describe("gradients", f"a CAM with uses_gradients=True ({self._cam.name})",
                         False))
        labels = torch.as_tensor(self.labels, device=self._out.device)
        n_labels = int(labels.shape[1])
        grads = []
        for j in range(n_labels):
            score = self._out.gather(1, labels[:, j : j + 1]).sum()
            g = self._cap.gradients(score, retain_graph=j < n_labels - 1)
            grads.append(g[self._cap.names[0]])
            self.n_backward += 1
        return torch.stack(grads, dim=1)

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

        def forward(batch: Any) -> Tensor:
            with capture(cam.model, name, record=False, replace=perturbation.replace(batch)), \
                    torch.no_grad():
                return call_model(cam.model, batch.inputs)

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
        picked = np.take_along_axis(outputs, self.labels[instance], axis=1)
        return torch.as_tensor(picked).to(self.output.device, self.output.dtype)


class _Call:
    """One call of a CAM: the convention's arguments, the main pass, its results."""

    def __init__(self, cam: BaseCAM, x: Tensor, target: Any, labels: Any,
                 progress: bool | None, callback: Any) -> None:
        self.cam = cam
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
        with capture(cam.model, cam.layer, gradients=cam.uses_gradients) as cap:
            with grad_mode:
                out = call_model(cam.model, rows)
            acts = cap.last()
        if not self.input_shape:
            self.check_layer(acts)
            if cam.forwards_per_channel:
                self.total = self.n * (1 + int(acts.shape[1]))
        labels = self.resolve(out)
        self.done += int(rows.shape[0])
        self.chunk = max(self.chunk, int(rows.shape[0]))
        self.chunk_labels.append(labels)
        if cam.uses_gradients:
            ctx = CAMContext(cam, rows, out, acts, labels, self.input_shape, cap=cap)
            self.maps.append(torch.relu(cam.compute(ctx).detach()))
            self.n_backward += ctx.n_backward
        else:
            self.activations.append(acts.detach())
            self.outputs.append(out.detach())
        return out.detach()


class BaseCAM:
    """Base of every CAM: a forward with the layer captured, then :meth:`compute`.

    Parameters
    ----------
    model : torch.nn.Module
        Any network with a spatial layer: 2-D (images, ``(n, C, H, W)``) or
        1-D (sequences, ``(n, C, L)``, e.g. a Conv1d text model).
    layer : str or torch.nn.Module, optional
        The layer to explain. ``None``: the last spatial layer of the forward
        pass (see :func:`whylens.torch.default_layer`), chosen on the first call.
    batch_size : int, optional
        Rows per model call: of the explained rows, and of ScoreCAM's and
        AblationCAM's extra forwards. ``None``: at most as many as fit
        ``memory_budget``; when the extra forwards need several such chunks,
        the first ones time a few sizes (4, 8, 16, ... up to the budget's) and
        the rest run in the fastest per row. Maps do not depend on it for a
        model that evaluates rows independently.
    memory_budget : int, default=256 MiB
        Bytes one chunk may use (estimated as 16 times its inputs); caps the
        chunk when ``batch_size`` is None.

    Attributes
    ----------
    tuned_chunk_sizes : dict
        The chunk size a probe chose for extra forwards, per kind of rows
        (shape and dtype); later calls of this object reuse it.
    last_chunks : ChunkReport or None
        How the last call split its extra forwards.

    Notes
    -----
    The model runs in eval mode; its training flags and every parameter's
    ``requires_grad`` are restored, no hook is left and no ``.grad`` written,
    also when the call raises or is cancelled. A call holds the model's lock
    (:func:`whylens.torch._hooks.model_lock`) from start to end, so calls on
    one model from several threads run one after the other and each gives
    the sequential result. Maps are ReLU'd, not normalised (plots normalise),
    so they keep their known closed forms.
    """

    #: Name used in ``Explanation.method`` (``"torch.<name>"``).
    name = "cam"
    #: Whether :meth:`compute` needs :meth:`CAMContext.gradients` (then it
    #: runs once per chunk of rows, with the chunk's graph).
    uses_gradients = True
    #: Whether :meth:`compute` runs one extra forward per channel and row
    #: (through :meth:`CAMContext.scores`); it counts in the progress total.
    forwards_per_channel = False

    def __init__(self, model: Any, layer: Any = None, *, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        self.layer = check_module_and_layer(model, layer)
        self.model = model
        self.batch_size = check_batch_size(batch_size)
        self.memory_budget = check_positive_int("memory_budget", memory_budget)
        self.tuned_chunk_sizes: dict[tuple[Any, ...], int] = {}
        self.last_chunks: ChunkReport | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={type(self.model).__name__}, layer={self.layer!r})"

    # ------------------------------------------------------------------ the override
    def compute(self, ctx: CAMContext) -> Tensor:
        """Return the maps at the layer's resolution: ``(m, n_labels, *spatial)``, pre-ReLU.

        The one method each CAM overrides.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ the call
    def __call__(self, x: Any, target: Any = None, *, labels: Any = None,
                 progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None) -> Explanation:
        """Explain a batch.

        Parameters
        ----------
        x : Tensor of shape (n, C, H, W), (n, C, L) or (n, L)
            Inputs as the model takes them, on the model's device.
        target : int, sequence of n ints, "all" or None, optional
            Which output to explain (the convention): an int for every row; a
            1-D sequence, array or tensor of length n for one output per row;
            ``"all"`` for every output; ``None``: each row's predicted class.
        labels : sequence of int, optional
            Several outputs explained for every row, in this order (instead of
            ``target``).
        progress : bool, optional
            A tqdm bar over the model calls (default: when stderr is a terminal
            and the work takes several chunks).
        callback : callable, optional
            ``callback(done, total)`` after every chunk of model rows (the
            explained rows, then ScoreCAM's and AblationCAM's extra forwards,
            counted together); raising :class:`~whylens.errors.Cancelled` or
            returning ``False`` stops the call between chunks.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, *input_spatial): the map upsampled
            to the input; ``layer_values`` of shape (n, n_labels, *layer_spatial):
            the map at the layer's resolution; ``labels`` (n_labels,), or
            (n, n_labels) when rows explain different outputs; ``output``: the
            model's output; ``features.data``: the input (images channels-last).

        Raises
        ------
        InputError
            Input on another device, a layer that does not exist or is not
            spatial, a target out of range or of the wrong length, both
            ``target`` and ``labels``.
        ModelError
            The model raised (chained).
        Cancelled
            The callback stopped the call.
        """
        x = as_input(x)
        with model_lock(self.model):
            check_same_device(self.model, x)
            if x.is_floating_point():
                x = x.to(_module_float_dtype(self.model))
            if self.layer is None:
                self.layer = default_layer(self.model, x[:1])
            call = _Call(self, x, target, labels, progress, callback)
            output = run_rows(call.forward, x, batch_size=self.batch_size,
                              memory_budget=self.memory_budget, name=self.name,
                              progress=progress, callback=call.report(0))
            row_labels = np.concatenate(call.chunk_labels, axis=0)
            n_evals, n_backward = call.n, call.n_backward
            if self.uses_gradients:
                maps = torch.cat(call.maps, dim=0)
                chunk = call.chunk
            else:
                ctx = CAMContext(self, x, torch.cat(call.outputs), torch.cat(call.activations),
                                 row_labels, call.input_shape, progress=progress,
                                 callback=call.report(call.n))
                maps = torch.relu(self.compute(ctx).detach())
                n_evals = ctx.n_evals
                chunk = ctx.chunks.cap if ctx.chunks is not None else call.n
            layer_module = dict(self.model.named_modules()).get(self.layer)
        values = upsample(maps.to(torch.float64), call.input_shape, conv=layer_module)
        kind = "image" if len(call.input_shape) == 2 else "sequence"
        shown = row_labels[0] if (row_labels == row_labels[:1]).all() else row_labels
        return Explanation(
            values=values.cpu().numpy(),
            layer_values=maps.to("cpu", torch.float64).numpy(),
            labels=row_labels,
            method=f"torch.{self.name}",
            features=Features(kind=kind, names=[], data=to_channels_last(x)),
            mode="classification",
            output=output,
            output_names=[str(i) for i in range(int(output.shape[1]))],
            params={"layer": self.layer, "target": shown.tolist(), "batch_size": chunk,
                    "n_backward": n_backward},
            n_evals=n_evals,
        )
