"""CAMs without gradients: Score-CAM, Ablation-CAM (extra forwards) and Eigen-CAM.

Score-CAM and Ablation-CAM weight each channel of the layer by the model's
output at an extra input per channel and row: the input masked by the
channel's upsampled map (Score-CAM), or the input with the channel zeroed at
the layer (Ablation-CAM). :class:`ChannelPerturbation` describes those extra
inputs as rows of one job, and :meth:`CAMContext.scores` evaluates them with
the one runner (:func:`whylens.representations.evaluate_rows`), so chunking,
progress and cancellation are the runner's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from whylens.errors import NotSupportedError, describe
from whylens.torch._cam_base import BaseCAM
from whylens.torch._cam_context import CAMContext
from whylens.torch._inputs import weighted_sum
from whylens.torch._upsample import _conv_offsets, upsample

__all__ = ["AblationCAM", "ChannelPerturbation", "EigenCAM", "ScoreCAM"]

_EPS = 1e-7


class _ChannelBatch:
    """A chunk of extra inputs: model inputs and the (instance, channel) of each row.

    ``shape`` and ``dtype`` are the inputs', so the runner sizes chunks from
    the memory budget as for any batch.
    """

    def __init__(self, inputs: Tensor, channels: Tensor, instances: Tensor) -> None:
        self.inputs = inputs
        self.channels = channels
        self.instances = instances

    @property
    def shape(self) -> torch.Size:
        return self.inputs.shape

    @property
    def dtype(self) -> torch.dtype:
        return self.inputs.dtype

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


class ChannelPerturbation:
    """One extra input per channel of the layer and row of ``x``, as rows of one job.

    Row ``r`` of the job is channel ``r % C`` of instance ``r // C``. With
    ``masks`` (Score-CAM) its input is ``x[r // C] * masks[r // C, r % C]``;
    without (Ablation-CAM) it is ``x[r // C]`` and the layer passes on its
    output with channel ``r % C`` set to 0.

    Parameters
    ----------
    x : Tensor of shape (n, ...)
        The explained rows.
    n_channels : int
        C, the layer's channels.
    masks : Tensor of shape (n, C, *input_spatial), optional
        Score-CAM's masks, broadcast over the input's channel dimensions.

    Attributes
    ----------
    n_rows : int
        ``n * C``.
    """

    def __init__(self, x: Tensor, n_channels: int, masks: Tensor | None = None) -> None:
        self.x = x
        self.n_channels = int(n_channels)
        self.masks = masks
        self.n_rows = int(x.shape[0]) * self.n_channels

    def instances(self, rows: Tensor) -> Tensor:
        """The row of ``x`` each job row belongs to."""
        return rows // self.n_channels

    def apply(self, rows: Tensor) -> _ChannelBatch:
        """Model inputs of a chunk of job rows (a batch with ``inputs`` and ``channels``)."""
        i, k = rows // self.n_channels, rows % self.n_channels
        if self.masks is None:
            return _ChannelBatch(self.x[i], k, i)
        m = self.masks[i, k]
        extra = self.x.ndim - m.ndim  # channel dims of the input
        return _ChannelBatch(self.x[i] * m.reshape(m.shape[0], *([1] * extra), *m.shape[1:]),
                             k, i)

    def replace(self, batch: _ChannelBatch) -> Callable[[str, Tensor], Tensor] | None:
        """What the layer passes on for ``batch``: None (Score-CAM), or its output with
        each row's channel zeroed (Ablation-CAM)."""
        if self.masks is not None:
            return None

        def zero(_name: str, out: Tensor) -> Tensor:
            out = out.clone()
            out[torch.arange(out.shape[0], device=out.device), batch.channels] = 0
            return out

        return zero


class ScoreCAM(BaseCAM):
    """Score-CAM (Wang et al., 2020): channel weights from masked forwards.

    Each channel, upsampled to the input (bilinear, ``align_corners=True`` as
    pytorch-grad-cam; at an unpadded stride-1 conv, each position centred on its
    receptive field instead) and min-max normalised, masks the input; the masked
    inputs of all channels go through the model in chunks (``batch_size``,
    ``memory_budget``) by the one runner. Channel weights are the softmax over
    channels of the label's output (as pytorch-grad-cam). Needs a
    floating-point input.
    """

    name = "scorecam"
    uses_gradients = False
    forwards_per_channel = True

    def compute(self, ctx: CAMContext) -> Tensor:
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
        scores = ctx.scores(ChannelPerturbation(x, c, masks)).reshape(n, c, -1)  # (n, C, L)
        weights = torch.softmax(scores.to(acts.dtype), dim=1).transpose(1, 2)  # (n, L, C)
        return weighted_sum(weights, acts)


class AblationCAM(BaseCAM):
    """Ablation-CAM (Desai & Ramaswamy, 2020): weights from zeroing each channel.

    ``w_k = (y - y_k) / y`` where ``y_k`` is the label's output with channel
    ``k`` of the layer set to 0; the ablated forwards go through the model in
    chunks by the one runner.
    """

    name = "ablationcam"
    uses_gradients = False
    forwards_per_channel = True

    def compute(self, ctx: CAMContext) -> Tensor:
        acts = ctx.activations
        n, c = int(acts.shape[0]), int(acts.shape[1])
        if self.reshape_transform is not None:
            raise NotSupportedError(describe(
                "reshape_transform", "None for AblationCAM (channels are zeroed in the layer's "
                "own output layout)", self.reshape_transform,
                fix="Use GradCAM, ScoreCAM or EigenCAM on a vision transformer."))
        ablated = ctx.scores(ChannelPerturbation(ctx.x, c)).reshape(n, c, -1)  # (n, C, L)
        y = ctx.label_outputs()[:, None, :]  # (n, 1, L)
        y = torch.where(y.abs() > _EPS, y, _EPS)
        weights = ((y - ablated) / y).to(acts.dtype).transpose(1, 2)
        return weighted_sum(weights, acts)


class EigenCAM(BaseCAM):
    """Eigen-CAM (Muhammad & Yeasin, 2020): first principal component of the activations.

    The activations ``(P positions, C channels)``, centred, are projected on
    their first right singular vector; its sign is chosen so the map correlates
    positively with the channel-mean activation. Independent of the target.
    """

    name = "eigencam"
    uses_gradients = False

    def compute(self, ctx: CAMContext) -> Tensor:
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
        return proj.expand(n, ctx.labels.shape[1], *acts.shape[2:]).to(acts.dtype)

