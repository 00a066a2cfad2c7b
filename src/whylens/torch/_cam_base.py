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

from collections.abc import Callable, Sequence
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
    InputTypeError,
    NotSupportedError,
    describe,
)
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET, Model
from whylens.models._chunks import ChunkReport
from whylens.models._torch import _module_float_dtype
from whylens.representations._runner import evaluate_rows
from whylens.torch._cam_peer import PeerCalls
from whylens.torch._hooks import capture, check_module_and_layer, check_same_device, model_lock
from whylens.torch._inputs import (
    WORKING_FACTOR,
    as_input,
    call_model,
    call_raw,
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
            from whylens.errors import NotSupportedError

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


class BaseCAM(PeerCalls):
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
    target_layers : list of torch.nn.Module or str, optional
        pytorch-grad-cam's argument (also accepted as the second positional
        argument, a list): the layers to explain. A CAM built with it answers
        pytorch-grad-cam's call, ``cam(input_tensor=, targets=)``, with maps
        scaled to [0, 1] per image and averaged over the layers as
        pytorch-grad-cam does. Give ``layer`` or ``target_layers``, not both.
    reshape_transform : callable, optional
        Applied to the layer's output and its gradient before the map is
        computed: tokens ``(n, T, D)`` of a vision transformer to a grid
        ``(n, D, h, w)`` (:func:`whylens.torch.vit_reshape_transform`), as
        pytorch-grad-cam's argument of the same name.

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

    The peers' calls: ``cam(input_tensor=, targets=[...])`` (pytorch-grad-cam;
    ``(N, H, W)`` float32 in [0, 1]), ``with GradCAM(model=m, target_layers=[l])
    as cam:`` (nothing to release: hooks live only during a call), and
    :meth:`attribute` (captum's ``LayerGradCam.attribute``).
    """

    #: Name used in ``Explanation.method`` (``"torch.<name>"``).
    name = "cam"
    #: Whether :meth:`compute` needs :meth:`CAMContext.gradients` (then it
    #: runs once per chunk of rows, with the chunk's graph).
    uses_gradients = True
    #: Whether :meth:`compute` runs one extra forward per channel and row
    #: (through :meth:`CAMContext.scores`); it counts in the progress total.
    forwards_per_channel = False

    def __init__(self, model: Any, layer: Any = None, *,
                 target_layers: Sequence[Any] | None = None,
                 reshape_transform: Callable[[Tensor], Tensor] | None = None,
                 batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        if isinstance(layer, (list, tuple)):  # pytorch-grad-cam's GradCAM(model, [layer])
            if target_layers is not None:
                raise InputError(describe("layer", "None when target_layers= is given",
                                          layer, "Pass the layers once."))
            layer, target_layers = None, layer
        self.layers: list[str] | None = None
        if target_layers is not None:
            if layer is not None:
                raise InputError(describe(
                    "target_layers", "None when layer= is given", target_layers,
                    "Pass layer= (whylens) or target_layers=[...] (pytorch-grad-cam)."))
            if isinstance(target_layers, (str, torch.nn.Module)):
                target_layers = [target_layers]
            if not isinstance(target_layers, (list, tuple)) or not target_layers:
                raise InputTypeError(describe(
                    "target_layers", "a non-empty list of layers of the model "
                    "(e.g. [model.layer4[-1]])", target_layers))
            self.layers = [check_module_and_layer(model, one) for one in target_layers]
            self.layer = self.layers[0]
        else:
            self.layer = check_module_and_layer(model, layer)
        if reshape_transform is not None and not callable(reshape_transform):
            raise InputTypeError(describe(
                "reshape_transform", "None or a function tokens -> (n, C, H, W)",
                reshape_transform))
        self.reshape_transform = reshape_transform
        self.model = model
        self.batch_size = check_batch_size(batch_size)
        self.memory_budget = check_positive_int("memory_budget", memory_budget)
        self.tuned_chunk_sizes: dict[tuple[Any, ...], int] = {}
        self.last_chunks: ChunkReport | None = None
        self.outputs: Tensor | None = None

    def __repr__(self) -> str:
        where = (f"target_layers={self.layers!r}" if self.layers is not None
                 else f"layer={self.layer!r}")
        return f"{type(self).__name__}(model={type(self.model).__name__}, {where})"

    def __enter__(self) -> BaseCAM:
        """pytorch-grad-cam's ``with GradCAM(...) as cam:``; hooks live only during a call."""
        return self

    def __exit__(self, *exc: Any) -> None:
        """Nothing to release; an exception raised in the block propagates."""
        return None

    # ------------------------------------------------------------------ the override
    def compute(self, ctx: CAMContext) -> Tensor:
        """Return the maps at the layer's resolution: ``(m, n_labels, *spatial)``, pre-ReLU.

        The one method each CAM overrides.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ the call
    def __call__(self, x: Any = None, target: Any = None, *, labels: Any = None,
                 progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None,
                 input_tensor: Any = None, targets: Any = None,
                 aug_smooth: bool = False, eigen_smooth: bool = False) -> Any:
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
        input_tensor, targets, aug_smooth, eigen_smooth
            pytorch-grad-cam's call (also when the CAM was built with
            ``target_layers=``; then ``x`` and ``target`` are read as
            ``input_tensor`` and ``targets``): ``targets`` is None (each
            image's top class) or a list of one callable per image
            (:mod:`whylens.torch.targets`); ``aug_smooth`` averages over
            pytorch-grad-cam's six test-time augmentations (horizontal flip
            times brightness 0.9, 1, 1.1); ``eigen_smooth`` is not supported.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, *input_spatial): the map upsampled
            to the input; ``layer_values`` of shape (n, n_labels, *layer_spatial):
            the map at the layer's resolution; ``labels`` (n_labels,), or
            (n, n_labels) when rows explain different outputs; ``output``: the
            model's output; ``features.data``: the input (images channels-last).
        ndarray of float32, shape (n, *input_spatial)
            For pytorch-grad-cam's call: per layer the ReLU'd map min-max
            scaled per image (``(m - min) / (1e-7 + max)``) and resized to the
            input (bilinear, half-pixel centres), then the mean over the
            layers scaled again, as pytorch-grad-cam returns it.

        Raises
        ------
        InputError
            Input on another device, a layer that does not exist or is not
            spatial, a target out of range or of the wrong length, both
            ``target`` and ``labels``; ``targets`` not one per image.
        ModelError
            The model raised (chained).
        Cancelled
            The callback stopped the call.
        """
        if input_tensor is not None or targets is not None or self.layers is not None:
            if input_tensor is not None and x is not None:
                raise InputError(describe("input_tensor", "None when x is given", "a tensor",
                                          "Pass the images once."))
            if targets is not None and target is not None:
                raise InputError(describe("targets", "None when target is given", targets,
                                          "Pass targets= (pytorch-grad-cam) or target= "
                                          "(whylens), not both."))
            if labels is not None:
                raise InputError(describe(
                    "labels", "None in pytorch-grad-cam's call (targets= chooses the score)",
                    labels))
            images = input_tensor if input_tensor is not None else x
            if images is None:
                raise InputError(describe("input_tensor", "a batch of images (n, C, H, W)",
                                          None))
            return self._peer_call(images, targets if targets is not None else target,
                                   aug_smooth, eigen_smooth, progress, callback)
        if aug_smooth or eigen_smooth:
            raise InputError(describe(
                "aug_smooth" if aug_smooth else "eigen_smooth",
                "False in whylens' call (pytorch-grad-cam's call takes it: "
                "cam(input_tensor=x, targets=..., aug_smooth=True))", True))
        r = self._explain(x, target, labels, progress, callback)
        values = upsample(r.maps.to(torch.float64), r.input_shape, conv=r.layer_module)
        kind = "image" if len(r.input_shape) == 2 else "sequence"
        rl = r.row_labels
        shown = rl[0] if (rl == rl[:1]).all() else rl
        return Explanation(
            values=values.cpu().numpy(),
            layer_values=r.maps.to("cpu", torch.float64).numpy(),
            labels=rl,
            method=f"torch.{self.name}",
            features=Features(kind=kind, names=[], data=to_channels_last(r.x)),
            mode="classification",
            output=r.output,
            output_names=[str(i) for i in range(int(r.output.shape[1]))],
            params={"layer": self.layer, "target": shown.tolist(), "batch_size": r.chunk,
                    "n_backward": r.n_backward},
            n_evals=r.n_evals,
        )

    def _explain(self, x: Any, target: Any, labels: Any, progress: bool | None,
                 callback: Callable[[int, int], Any] | None, *,
                 targets: list[Any] | None = None, relu: bool = True) -> _Result:
        """The call's work: the maps at the layer's resolution and what came with them."""
        if self.layers is not None and len(self.layers) > 1:
            raise NotSupportedError(describe(
                "target_layers", "one layer for an Explanation or captum's attribute",
                self.layers, "Call cam(input_tensor=x, targets=...) for pytorch-grad-cam's "
                "mean over several layers."))
        x = as_input(x)
        with model_lock(self.model):
            check_same_device(self.model, x)
            if x.is_floating_point():
                x = x.to(_module_float_dtype(self.model))
            if self.layer is None:
                self.layer = default_layer(self.model, x[:1])
            call = _Call(self, x, target, labels, progress, callback, targets=targets,
                         relu=relu)
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
                                 callback=call.report(call.n), targets=targets,
                                 raw_output=torch.cat(call.raw_outputs))
                maps = self.compute(ctx).detach()
                maps = torch.relu(maps) if relu else maps
                n_evals = ctx.n_evals
                chunk = ctx.chunks.cap if ctx.chunks is not None else call.n
            layer_module = dict(self.model.named_modules()).get(self.layer)
        return _Result(x, maps, row_labels, output, call.input_shape, layer_module, n_evals,
                       n_backward, chunk)


class _Result:
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
