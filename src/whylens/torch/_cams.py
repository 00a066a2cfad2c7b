"""Class activation maps: the Grad-CAM family on one base class.

Every CAM runs one forward pass with the layer's activations captured
(:class:`whylens.torch.capture`), then turns them into one map per instance
and label in :meth:`BaseCAM.compute`, the one override point. The base class
validates the input, target and layer, restores the model, upsamples the map
to the input and returns an :class:`~whylens.Explanation`.

=====================  ===================================================
class                  map (before ReLU), A = activations (C, *spatial)
=====================  ===================================================
GradCAM                sum_k mean(dy/dA_k) A_k
GradCAMPlusPlus        sum_k (sum_ij relu(g_kij) a_kij) A_k, a = Eq. 19
HiResCAM               sum_k (dy/dA_k) * A_k
LayerCAM               sum_k relu(dy/dA_k) * A_k
ScoreCAM               sum_k softmax_k(y(x * norm(up(A_k)))) A_k
AblationCAM            sum_k (y - y(A_k := 0)) / y  A_k
EigenCAM               projection of A on its first principal component
=====================  ===================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import (
    InputError,
    InputTypeError,
    ModelError,
    ModelOutputError,
    NotSupportedError,
    WhylensError,
    describe,
)
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.models._base import ChunkReport, run_chunked
from whylens.torch._hooks import capture, check_module_and_layer, check_same_device
from whylens.torch._layers import default_layer

__all__ = [
    "CAM_METHODS",
    "AblationCAM",
    "BaseCAM",
    "CAMContext",
    "EigenCAM",
    "GradCAM",
    "GradCAMPlusPlus",
    "HiResCAM",
    "LayerCAM",
    "ScoreCAM",
    "cam",
]

_EPS = 1e-7


def _as_input(x: Any) -> Any:
    import torch

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
    return x


def _resolve_target(target: Any, first_output: Any, n_outputs: int) -> list[int]:
    """Labels to explain: the argmax of each instance (in order of appearance) by default."""
    if target is None:
        labels: list[int] = []
        for k in first_output.argmax(dim=1).tolist():
            if k not in labels:
                labels.append(int(k))
        return labels
    items = [target] if isinstance(target, (int, np.integer)) else target
    try:
        items = list(items)
    except TypeError as exc:
        raise InputTypeError(
            describe("target", "None, an output index or a sequence of them", target)
        ) from exc
    if not items or any(isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer))
                        for t in items):
        raise InputTypeError(
            describe("target", "None, an output index or a non-empty sequence of them", target)
        )
    bad = [int(t) for t in items if not 0 <= t < n_outputs]
    if bad:
        raise InputError(
            describe("target", f"output indices in [0, {n_outputs})", bad,
                     f"The model has {n_outputs} outputs; None explains the top class.")
        )
    return [int(t) for t in items]


def _to_channels_last(x: Any) -> np.ndarray:
    data = x.detach().to("cpu").numpy()
    if data.ndim == 4:
        data = np.moveaxis(data, 1, -1)
    return np.ascontiguousarray(data)


def _conv_offsets(conv: Any, layer_shape: Sequence[int], size: Sequence[int]
                  ) -> list[float | None] | None:
    """Per spatial axis, where map position 0 sits in the input (None: no such axis).

    For a stride-1 ``nn.Conv{1,2,3}d`` that runs at the input's resolution (its
    input, rebuilt from its output length, kernel, dilation and padding, is as
    long as the model's input on that axis), output position ``j`` is centred on
    input position ``j - padding + dilation * (kernel - 1) / 2``. Returns None
    when no axis qualifies.
    """
    import torch

    if not isinstance(conv, torch.nn.modules.conv._ConvNd) or conv.transposed:
        return None
    k = len(layer_shape)
    if len(conv.kernel_size) != k or len(size) != k:
        return None
    offsets: list[float | None] = []
    for a in range(k):
        pad = conv.padding
        if isinstance(pad, str) and pad != "valid":  # 'same': as long as the input
            offsets.append(None)
            continue
        p_a = 0 if isinstance(pad, str) else int(pad[a])
        reach = int(conv.dilation[a]) * (int(conv.kernel_size[a]) - 1)
        in_len = int(layer_shape[a]) + reach - 2 * p_a
        if int(conv.stride[a]) == 1 and in_len == int(size[a]) and reach != 2 * p_a:
            offsets.append(reach / 2 - p_a)
        else:
            offsets.append(None)
    return offsets if any(o is not None for o in offsets) else None


def _resample(maps: Any, coords: Sequence[Any]) -> Any:
    """Separable linear interpolation of ``(n, L, *spatial)`` maps at per-axis
    source coordinates (clamped to the map, so edges repeat their value)."""

    out = maps
    for a, src in enumerate(coords):
        axis = 2 + a
        length = out.shape[axis]
        src = src.clamp(0, length - 1)
        lo = src.floor().long()
        hi = (lo + 1).clamp(max=length - 1)
        w = (src - lo).to(out.dtype)
        shape = [1] * out.ndim
        shape[axis] = -1
        w = w.reshape(shape)
        out = (out.index_select(axis, lo) * (1 - w) + out.index_select(axis, hi) * w)
    return out


def upsample(maps: Any, size: Sequence[int], conv: Any = None) -> Any:
    """Resize ``(n, L, *spatial)`` maps to ``size`` (bilinear in 2-D, linear in 1-D).

    ``align_corners=False``, so an upsampled map keeps the mean of the original.

    Parameters
    ----------
    maps : Tensor of shape (n, L, *spatial)
    size : sequence of int
        The input's spatial shape.
    conv : torch.nn.Module, optional
        The layer the maps come from. When it is a stride-1 ``nn.Conv1d``
        (``2d``, ``3d``) that runs at the input's resolution with less than
        'same' padding, its map is shorter than the input by
        ``dilation * (kernel - 1) - 2 * padding``; stretching it to the input
        would shift positions towards the edges (by up to half a kernel, so a
        token-level Grad-CAM peak lands on a neighbouring token). Along such
        axes, position ``j`` is placed at the centre of its receptive field,
        input ``j - padding + dilation * (kernel - 1) / 2``, linearly between
        positions and repeating the edge values beyond them. Other layers
        (pooled, strided) are resized.

    Returns
    -------
    Tensor of shape (n, L, *size)
    """
    import torch.nn.functional as F

    import torch

    size = tuple(int(s) for s in size)
    if tuple(maps.shape[2:]) == size:
        return maps
    offsets = None if conv is None else _conv_offsets(conv, maps.shape[2:], size)
    if offsets is None:
        mode = "bilinear" if maps.ndim == 4 else "linear"
        return F.interpolate(maps, size=size, mode=mode, align_corners=False)
    coords = []
    for a, (offset, n_in) in enumerate(zip(offsets, size, strict=True)):
        t = torch.arange(n_in, dtype=torch.float64, device=maps.device)
        if offset is None:  # as F.interpolate(align_corners=False)
            coords.append(((t + 0.5) * (maps.shape[2 + a] / n_in) - 0.5).clamp(min=0))
        else:
            coords.append(t - offset)
    return _resample(maps, coords)


class CAMContext:
    """What :meth:`BaseCAM.compute` sees of one call.

    Attributes
    ----------
    x : Tensor of shape (n, ...)
        The input batch.
    activations : Tensor of shape (n, C, *spatial)
        The layer's output (last call of the layer), detached.
    output : Tensor of shape (n, n_outputs)
        The model's output at ``x``, detached.
    labels : list of int, length n_labels
    input_shape : tuple of int
        Spatial shape of the input the maps are upsampled to.
    layer_module : torch.nn.Module or None
        The explained layer (its geometry decides how maps are upsampled).
    batch_size : int
        Most rows per extra forward (ScoreCAM, AblationCAM): the CAM's
        ``batch_size``, or the memory budget's.
    n_evals : int
        Rows forwarded so far (updated by :meth:`scores`).
    chunks : ChunkReport or None
        How :meth:`scores` split its forwards (the sizes a probe timed).
    """

    def __init__(self, cam: BaseCAM, cap: capture, x: Any, out: Any, labels: list[int],
                 input_shape: tuple[int, ...], batch_size: int,
                 callback: Callable[[int, int], Any] | None) -> None:
        self._cam = cam
        self._cap = cap
        self._out = out
        self.x = x
        self.activations = cap.last().detach()
        self.output = out.detach()
        self.labels = labels
        self.input_shape = input_shape
        self.layer_module = dict(cam.model.named_modules()).get(cam.layer)
        self.batch_size = batch_size
        self.callback = callback
        self.n_evals = int(x.shape[0])
        self.n_backward = 0
        self.chunks: ChunkReport | None = None
        self._rows_done = 0

    def gradients(self) -> Any:
        """Gradients of each label's output with respect to the activations.

        One backward pass per label (instances of the batch are independent,
        so the output summed over the batch gives each instance's gradient).

        Returns
        -------
        Tensor of shape (n, n_labels, C, *spatial)
        """
        import torch

        grads = []
        for j, label in enumerate(self.labels):
            score = self._out[:, label].sum()
            g = self._cap.gradients(score, retain_graph=j < len(self.labels) - 1)
            grads.append(g[self._cap.names[0]])
            self.n_backward += 1
        return torch.stack(grads, dim=1)

    def scores(self, rows: Any, make_inputs: Callable[[Any], Any],
               replace: Callable[[Any, Any], Any] | None = None) -> Any:
        """Model outputs of the explained labels for extra inputs, in chunks.

        With the CAM's ``batch_size`` every chunk has that many rows.
        Otherwise chunks hold at most what the memory budget allows, and a
        job of several such chunks (at least 128 rows) first times a few
        smaller sizes on its own first rows (4, 8, 16, ...) and goes on in
        the fastest per row (:func:`whylens.models._base.run_chunked`).
        Scores stay on the device; only the probe's few chunks synchronise.

        Parameters
        ----------
        rows : Tensor of int, shape (m,)
            What each extra input is (its meaning is the caller's).
        make_inputs : callable
            ``make_inputs(rows_chunk) -> Tensor (len(chunk), ...)``.
        replace : callable, optional
            ``replace(rows_chunk, layer_output) -> tensor`` passed on by the
            layer instead of its output.

        Returns
        -------
        Tensor of shape (m, n_labels), on the model's device
        """
        import torch

        model = self._cam.model
        labels = torch.as_tensor(self.labels, device=self.output.device)
        total = int(rows.shape[0])
        name = self._cap.names[0]

        def work(start: int, stop: int) -> Any:
            chunk = rows[start:stop]
            hook = None if replace is None else (lambda _n, out, c=chunk: replace(c, out))
            with capture(model, name, record=False, replace=hook), torch.no_grad():
                out = _call_model(model, make_inputs(chunk))
            return out.index_select(1, labels)

        def on_chunk(done: int) -> None:
            self.n_evals += done - self._rows_done
            self._rows_done = done
            if self.callback is not None:
                self.callback(done, total)

        device = self.x.device
        sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else None
        self._rows_done = 0
        key = (tuple(self.x.shape[1:]), str(self.x.dtype), str(device), name, replace is None)
        parts, report = run_chunked(total, work, cap=self.batch_size,
                                    chunk_size=self._cam.batch_size,
                                    known=self._cam.tuned_chunk_sizes.get(key),
                                    on_chunk=on_chunk, sync=sync)
        if report.probed:
            self._cam.tuned_chunk_sizes[key] = report.chunk_size
        self.chunks = self._cam.last_chunks = report
        return torch.cat(parts, dim=0)


def _call_model(model: Any, x: Any) -> Any:
    import torch

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
    if not isinstance(out, torch.Tensor):
        raise ModelOutputError(
            describe("output of the model", "a tensor of shape (n, n_outputs)", out)
        )
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ModelOutputError(
            describe("output of the model", f"a tensor of shape ({x.shape[0]}, n_outputs)",
                     got_text=f"shape {tuple(out.shape)}",
                     fix="CAMs explain classifier outputs (one score per class).")
        )
    return out


class BaseCAM:
    """Base of every CAM: one forward with the layer captured, then :meth:`compute`.

    Parameters
    ----------
    model : torch.nn.Module
        Any network with a spatial layer: 2-D (images, ``(n, C, H, W)``) or
        1-D (sequences, ``(n, C, L)``, e.g. a Conv1d text model).
    layer : str or torch.nn.Module, optional
        The layer to explain. ``None``: the last spatial layer of the forward
        pass (see :func:`whylens.torch.default_layer`), chosen on the first call.
    batch_size : int, optional
        Rows per extra forward pass (ScoreCAM, AblationCAM). ``None``: at most
        as many as fit a 256 MiB budget; when the forwards need several such
        chunks, the first ones time a few sizes (4, 8, 16, ... up to the
        budget's) and the rest run in the fastest per row. Pass e.g.
        ``batch_size=16`` to fix it (maps do not depend on it beyond float
        rounding of the model's batched kernels).
    memory_budget : int, default=256 MiB
        Bytes one chunk of extra forwards may use (estimated as 16 times its
        inputs); caps the chunk when ``batch_size`` is None.

    Attributes
    ----------
    tuned_chunk_sizes : dict
        The chunk size a probe chose, per input shape, dtype, device and
        layer; later calls of this object reuse it instead of probing again.
    last_chunks : ChunkReport or None
        How the last call split its extra forwards.

    Notes
    -----
    The model runs in eval mode; its training flags and every parameter's
    ``requires_grad`` are restored, no hook is left and no ``.grad`` written,
    also when the call raises. Maps are ReLU'd, not normalised (plots
    normalise), so they keep their known closed forms.
    """

    #: Name used in ``Explanation.method`` (``"torch.<name>"``).
    name = "cam"
    #: Whether :meth:`compute` needs :meth:`CAMContext.gradients`.
    uses_gradients = True

    def __init__(self, model: Any, layer: Any = None, *, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        self.layer = check_module_and_layer(model, layer)
        self.model = model
        self.batch_size = None if batch_size is None else check_positive_int(
            "batch_size", batch_size)
        self.memory_budget = check_positive_int("memory_budget", memory_budget)
        self.tuned_chunk_sizes: dict[tuple[Any, ...], int] = {}
        self.last_chunks: ChunkReport | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={type(self.model).__name__}, layer={self.layer!r})"

    # ------------------------------------------------------------------ the override
    def compute(self, ctx: CAMContext) -> Any:
        """Return the maps at the layer's resolution: ``(n, n_labels, *spatial)``, pre-ReLU.

        The one method each CAM overrides.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ the call
    def _batch_size(self, x: Any) -> int:
        if self.batch_size is not None:
            return self.batch_size
        row = int(x[0].numel()) * x.element_size()
        return int(np.clip(self.memory_budget // max(16 * row, 1), 1, 512))

    def __call__(self, x: Any, target: Any = None, *,
                 callback: Callable[[int, int], Any] | None = None) -> Explanation:
        """Explain a batch.

        Parameters
        ----------
        x : Tensor of shape (n, C, H, W), (n, C, L) or (n, L)
            Inputs as the model takes them, on the model's device.
        target : int or sequence of int, optional
            Output indices to explain, for every instance. ``None``: the top
            class of each instance (all of them, for a batch whose top classes
            differ).
        callback : callable, optional
            ``callback(done, total)`` after each chunk of extra forwards.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, *input_spatial): the map upsampled
            to the input; ``layer_values`` of shape (n, n_labels, *layer_spatial):
            the map at the layer's resolution; ``output``: the model's output;
            ``features.data``: the input (images channels-last).

        Raises
        ------
        InputError
            Input on another device, a layer that does not exist or is not
            spatial, a target out of range.
        ModelError
            The model raised (chained).
        """
        import torch

        x = _as_input(x)
        check_same_device(self.model, x)
        if x.is_floating_point():
            from whylens.models._torch import _module_float_dtype

            x = x.to(_module_float_dtype(self.model))
        if self.layer is None:
            self.layer = default_layer(self.model, x[:1])
        layer = self.layer
        grad_mode = torch.enable_grad() if self.uses_gradients else torch.no_grad()
        with capture(self.model, layer, gradients=self.uses_gradients) as cap:
            with grad_mode:
                out = _call_model(self.model, x)
            labels = _resolve_target(target, out.detach(), int(out.shape[1]))
            acts = cap.last()
            positions = int(np.prod(acts.shape[2:])) if acts.ndim >= 3 else 1
            if acts.ndim not in (3, 4) or positions < 2:
                raise InputError(
                    describe("layer", "a spatial layer with output (n, C, L) or (n, C, H, W)",
                             got_text=f"{layer!r} with output shape {tuple(acts.shape)}",
                             fix="Pick a convolutional layer before global pooling; "
                                 "whylens.torch.layers(model, x) marks them spatial=True.")
                )
            k = acts.ndim - 2
            if x.ndim - 1 < k:
                raise InputError(
                    describe("x", f"an input with {k} spatial dimension(s) after the batch",
                             got_text=f"shape {tuple(x.shape)}")
                )
            input_shape = tuple(int(s) for s in x.shape[-k:])
        # The hooks are gone here; extra forwards (ScoreCAM, AblationCAM) open their own.
        ctx = CAMContext(self, cap, x, out, labels, input_shape, self._batch_size(x), callback)
        maps = torch.relu(self.compute(ctx).detach())
        del out, cap
        values = upsample(maps.to(torch.float64), input_shape, conv=ctx.layer_module)
        kind = "image" if k == 2 else "sequence"
        return Explanation(
            values=values.cpu().numpy(),
            layer_values=maps.to("cpu", torch.float64).numpy(),
            labels=np.asarray(labels, dtype=np.int64),
            method=f"torch.{self.name}",
            features=Features(kind=kind, names=[], data=_to_channels_last(x)),
            mode="classification",
            output=ctx.output.to("cpu", torch.float64).numpy(),
            output_names=[str(i) for i in range(int(ctx.output.shape[1]))],
            params={"layer": layer, "target": labels, "batch_size": ctx.batch_size,
                    "n_backward": ctx.n_backward},
            n_evals=ctx.n_evals,
        )


# ---------------------------------------------------------------------- gradient CAMs
def _weighted_sum(weights: Any, acts: Any) -> Any:
    """sum_k weights[n, l, k] * acts[n, k, ...] -> (n, l, ...)."""
    return (weights[(...,) + (None,) * (acts.ndim - 2)] * acts[:, None]).sum(dim=2)


class GradCAM(BaseCAM):
    """Grad-CAM (Selvaraju et al., 2017): channel weights are the mean gradients.

    ``map = relu(sum_k mean_ij(dy/dA_kij) A_k)``.
    """

    name = "gradcam"

    def compute(self, ctx: CAMContext) -> Any:
        grads = ctx.gradients()  # (n, L, C, *sp)
        weights = grads.flatten(3).mean(dim=3)
        return _weighted_sum(weights, ctx.activations)


class GradCAMPlusPlus(BaseCAM):
    """Grad-CAM++ (Chattopadhay et al., 2018), weights from their Eq. 19.

    ``a_kij = g² / (2 g² + sum_ij(A_k) g³)`` (0 where g = 0),
    ``w_k = sum_ij relu(g_kij) a_kij``, ``map = relu(sum_k w_k A_k)``.
    """

    name = "gradcam++"

    def compute(self, ctx: CAMContext) -> Any:
        import torch

        g = ctx.gradients().flatten(3)  # (n, L, C, P)
        acts = ctx.activations
        total = acts.flatten(2).sum(dim=2)[:, None, :, None]  # (n, 1, C, 1)
        g2 = g * g
        denom = 2 * g2 + total * g2 * g
        alpha = torch.where(g != 0, g2 / torch.where(denom != 0, denom, _EPS), 0.0)
        weights = (torch.relu(g) * alpha).sum(dim=3)
        return _weighted_sum(weights, acts)


class HiResCAM(BaseCAM):
    """HiResCAM (Draelos & Carin, 2020): ``map = relu(sum_k dy/dA_k * A_k)``."""

    name = "hirescam"

    def compute(self, ctx: CAMContext) -> Any:
        return (ctx.gradients() * ctx.activations[:, None]).sum(dim=2)


class LayerCAM(BaseCAM):
    """LayerCAM (Jiang et al., 2021): ``map = relu(sum_k relu(dy/dA_k) * A_k)``."""

    name = "layercam"

    def compute(self, ctx: CAMContext) -> Any:
        import torch

        return (torch.relu(ctx.gradients()) * ctx.activations[:, None]).sum(dim=2)


# ---------------------------------------------------------------------- gradient-free
class ScoreCAM(BaseCAM):
    """Score-CAM (Wang et al., 2020): channel weights from masked forwards.

    Each channel, upsampled to the input (bilinear, ``align_corners=True`` as
    pytorch-grad-cam; at an unpadded stride-1 conv, each position centred on its
    receptive field instead) and min-max normalised, masks the input; the masked
    inputs of all channels go through the model in batches (``batch_size``),
    scores stay on the device until the end. Channel weights
    are the softmax over channels of the label's output (as pytorch-grad-cam).
    Needs a floating-point input.
    """

    name = "scorecam"
    uses_gradients = False

    def compute(self, ctx: CAMContext) -> Any:
        import torch

        x = ctx.x
        if not x.is_floating_point():
            raise NotSupportedError(
                describe("x", "a floating-point input to mask (ScoreCAM)",
                         got_text=f"dtype {x.dtype}",
                         fix="Use GradCAM on token-id inputs, or ScoreCAM on embeddings.")
            )
        acts = ctx.activations
        n, c = int(acts.shape[0]), int(acts.shape[1])
        # Masks upsampled with align_corners=True, as pytorch-grad-cam does: the
        # softmax over channels is winner-take-all, so the resampling grid decides
        # which channel wins and matching it makes the two libraries agree. At an
        # unpadded stride-1 conv (a map shorter than the input) stretching would
        # shift every mask towards the edges: there each map position is placed
        # at the centre of its receptive field, as the CAM itself (see upsample).
        if _conv_offsets(ctx.layer_module, acts.shape[2:], ctx.input_shape) is not None:
            up = upsample(acts, ctx.input_shape, conv=ctx.layer_module).flatten(2)
        else:
            mode = "bilinear" if acts.ndim == 4 else "linear"
            up = torch.nn.functional.interpolate(acts, size=ctx.input_shape, mode=mode,
                                                 align_corners=True).flatten(2)
        lo = up.amin(dim=2, keepdim=True)
        hi = up.amax(dim=2, keepdim=True)
        span = hi - lo
        masks = torch.where(span > 0, (up - lo) / torch.where(span > 0, span, 1.0), 0.0)
        masks = masks.reshape(n, c, *ctx.input_shape)
        extra = x.ndim - 1 - len(ctx.input_shape)  # channel dims of the input

        def make_inputs(rows: Any) -> Any:
            i, k = rows // c, rows % c
            m = masks[i, k]
            return x[i] * m.reshape(m.shape[0], *([1] * extra), *ctx.input_shape)

        rows = torch.arange(n * c, device=x.device)
        scores = ctx.scores(rows, make_inputs).reshape(n, c, -1)  # (n, C, L)
        weights = torch.softmax(scores.to(acts.dtype), dim=1).transpose(1, 2)  # (n, L, C)
        return _weighted_sum(weights, acts)


class AblationCAM(BaseCAM):
    """Ablation-CAM (Desai & Ramaswamy, 2020): weights from zeroing each channel.

    ``w_k = (y - y_k) / y`` where ``y_k`` is the label's output with channel
    ``k`` of the layer set to 0; one batched forward per chunk of channels.
    """

    name = "ablationcam"
    uses_gradients = False

    def compute(self, ctx: CAMContext) -> Any:
        import torch

        x, acts = ctx.x, ctx.activations
        n, c = int(acts.shape[0]), int(acts.shape[1])

        def make_inputs(rows: Any) -> Any:
            return x[rows // c]

        def replace(rows: Any, out: Any) -> Any:
            out = out.clone()
            out[torch.arange(rows.shape[0], device=out.device), rows % c] = 0
            return out

        rows = torch.arange(n * c, device=x.device)
        ablated = ctx.scores(rows, make_inputs, replace).reshape(n, c, -1)  # (n, C, L)
        y = ctx.output[:, ctx.labels][:, None, :]  # (n, 1, L)
        y = torch.where(y.abs() > _EPS, y, _EPS)
        weights = ((y - ablated) / y).to(acts.dtype).transpose(1, 2)
        return _weighted_sum(weights, acts)


class EigenCAM(BaseCAM):
    """Eigen-CAM (Muhammad & Yeasin, 2020): first principal component of the activations.

    The activations ``(P positions, C channels)``, centred, are projected on
    their first right singular vector; its sign is chosen so the map correlates
    positively with the channel-mean activation. Independent of the target.
    """

    name = "eigencam"
    uses_gradients = False

    def compute(self, ctx: CAMContext) -> Any:
        import torch

        acts = ctx.activations
        n = int(acts.shape[0])
        m = acts.flatten(2).transpose(1, 2).to(torch.float64)  # (n, P, C)
        m = m - m.mean(dim=1, keepdim=True)
        _, _, vh = torch.linalg.svd(m, full_matrices=False)
        proj = m @ vh[:, 0, :, None]  # (n, P, 1)
        mean_act = acts.flatten(2).mean(dim=1).to(torch.float64)  # (n, P)
        mean_act = mean_act - mean_act.mean(dim=1, keepdim=True)
        sign = torch.sign((proj[..., 0] * mean_act).sum(dim=1))
        sign = torch.where(sign == 0, 1.0, sign)
        proj = (proj[..., 0] * sign[:, None]).reshape(n, 1, *acts.shape[2:])
        return proj.expand(n, len(ctx.labels), *acts.shape[2:]).to(acts.dtype)


CAM_METHODS: dict[str, type[BaseCAM]] = {
    cls.name: cls
    for cls in (GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM, AblationCAM, EigenCAM)
}


def cam(method: str, model: Any, layer: Any = None, **kwargs: Any) -> BaseCAM:
    """Build a CAM by name (a factory; the workbench calls it with plain parameters).

    Parameters
    ----------
    method : {"gradcam", "gradcam++", "hirescam", "layercam", "scorecam", "ablationcam", \
"eigencam"}
    model, layer, **kwargs
        As :class:`BaseCAM`.

    Returns
    -------
    BaseCAM
    """
    key = str(method).lower().replace("_", "").replace("-", "")
    key = {"gradcamplusplus": "gradcam++", "gradcampp": "gradcam++"}.get(key, key)
    if key not in CAM_METHODS:
        raise InputError(describe("method", f"one of {sorted(CAM_METHODS)}", method))
    return CAM_METHODS[key](model, layer, **kwargs)
