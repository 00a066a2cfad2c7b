"""The base of every class activation map: :class:`BaseCAM`.

Every CAM runs the model on the input with the layer's activations captured
(:class:`whylens.torch.capture`), one chunk of rows at a time through
:meth:`whylens.models.Model.call_chunked` (so ``batch_size``,
``memory_budget``, ``progress`` and ``callback`` act as in every other
explainer), then turns them into one map per instance and label in
:meth:`BaseCAM.compute`, the one override point, from a
:class:`~whylens.torch.CAMContext` (:mod:`whylens.torch._cam_context`). The
base class validates the layer and builds the answer; the call's work (the
input and target checks, the model's lock for the whole call, the chunked
main pass, restoring the model) is :func:`whylens.torch._cam_runner.run_cam`,
and the upsampling to the input :func:`whylens.torch.upsample`. The CAMs
themselves live in :mod:`whylens.torch._cams` (gradient CAMs, the factory) and
:mod:`whylens.torch._cams_perturbation` (Score-CAM, Ablation-CAM, Eigen-CAM).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor
from whylens._convention import check_batch_size
from whylens._validation import check_positive_int
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.models._chunks import ChunkReport
from whylens.torch._cam_context import CAMContext
from whylens.torch._cam_peer import PeerCalls
from whylens.torch._cam_runner import CAMResult, run_cam
from whylens.torch._hooks import check_module_and_layer
from whylens.torch._inputs import to_channels_last
from whylens.torch._upsample import upsample

__all__ = ["BaseCAM", "CAMContext"]


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
                 targets: list[Any] | None = None, relu: bool = True) -> CAMResult:
        """The call's work (:func:`~whylens.torch._cam_runner.run_cam`), for every call shape."""
        return run_cam(self, x, target, labels, progress, callback, targets=targets,
                       relu=relu)
