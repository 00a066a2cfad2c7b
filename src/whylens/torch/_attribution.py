"""The base of the gradient attributions: :class:`GradientAttribution`.

The base checks the call, holds the model's lock, runs the first forward
and builds the :class:`~whylens.Explanation`; the model access of a call is
the runner :class:`whylens.torch._runner._Run`, the argument checks are in
:mod:`whylens.torch._attribution_args`, and captum's ``attribute`` is
:mod:`whylens.torch._attribution_peer`.

Every method is built as ``Method(model)`` (input attributions) or
``Method(model, layer)`` (attributions of a layer's activations) and called as
``method(x, target=None, baselines=None)``, returning an
:class:`~whylens.Explanation` whose ``values`` have shape
``(n, n_labels, *x.shape[1:])`` (or ``(n, n_labels, *layer_output.shape[1:])``
for layer methods). One override point, :meth:`GradientAttribution._attribute`.

=========================  ====================================================
class (module)             attribution of x (reference x', label output f)
=========================  ====================================================
Saliency (_saliency)       |df/dx| (``abs=False``: df/dx)
InputXGradient             x * df/dx
GuidedBackprop             df/dx with ReLU backward relu(g) * 1[x > 0]
Deconvolution              df/dx with ReLU backward relu(g)
IntegratedGradients        (x - x') * sum_k w_k df/dx(x' + a_k (x - x'))
(_integrated_gradients)
LayerIntegratedGradients   IG of the layer's activation, path between the
                           activations at x' and at x
GradientShap               E[(x + e - b) * df/dx(b + a (x + e - b))], b, a, e random
(_gradient_shap)
LayerGradientShap          GradientShap of the layer's activation
NoiseTunnel / SmoothGrad   mean (or mean of squares, variance) over x + noise
(_noise_tunnel)
DeepLift (_deeplift)       (x - x') * DeepLIFT multipliers (rescale rule)
DeepShap                   DeepLift averaged over a background set
LayerDeepLift / -DeepShap  DeepLift / DeepShap of the layer's activation
=========================  ====================================================

The calling convention (DESIGN.md): ``target=`` is an output index for every
row, a length-n sequence for one per row, or None for each row's predicted
class; ``labels=`` explains several outputs for every row; ``batch_size=``
(captum's ``internal_batch_size`` is an alias) and ``memory_budget=`` bound
each chunk of model rows; ``progress=`` and ``callback=`` report after every
chunk, and a callback returning False stops the call between chunks.

Side effects: none. A call holds the model's lock
(:func:`whylens.torch._hooks.model_lock`) from start to end, so calls on one
model from several threads run one at a time. The model runs in eval mode
with every parameter's ``requires_grad`` switched off (so backward computes
input gradients only and no ``.grad`` is written); flags are restored on
return, also when the call raises or is cancelled. Gradients come from
``torch.autograd.grad``; layer methods go through the one hook manager
:class:`whylens.torch.capture`; DeepLIFT and guided backprop rewrite
nonlinearities with a torch function mode (:mod:`whylens.torch._rules`), never
with module backward hooks.

Memory: model rows (interpolation steps, noise samples, background pairs) go
through the model in chunks of ``batch_size`` rows. By default the chunk is
chosen from ``memory_budget``: one probe forward measures the bytes autograd
saves per row, and a chunk holds as many rows as fit in the budget (captum
puts all steps in one batch by default, captum#245). Sums over a row's steps
or samples are taken one term at a time, in order, so the values do not
depend on the chunking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from whylens._validation import check_positive_int
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.models._torch import _module_float_dtype
from whylens.torch._attribution_args import batch_size_argument, explained_labels
from whylens.torch._attribution_peer import CaptumCalls
from whylens.torch._hooks import (
    check_module_and_layer,
    check_same_device,
    model_lock,
    restore_state,
    snapshot_state,
)
from whylens.torch._inputs import as_input, to_channels_last
from whylens.torch._runner import _Progress, _Run

__all__ = ["GradientAttribution"]


def _layer_variant(method: GradientAttribution) -> str:
    """The name of ``method``'s layer variant, or LayerIntegratedGradients when it has none."""
    name = f"Layer{type(method).__name__}"
    pending = list(GradientAttribution.__subclasses__())
    while pending:  # every defined method class (no import of the package: no cycle)
        cls = pending.pop()
        if cls.__name__ == name and getattr(cls, "is_layer_method", False):
            return name
        pending.extend(cls.__subclasses__())
    return "LayerIntegratedGradients"


def _float_input(x: Tensor, method: GradientAttribution) -> Tensor:
    """``x``, checked to be floating point (integer ids go to a layer variant)."""
    if not x.is_floating_point():
        variant = _layer_variant(method)
        own = type(method).__name__
        note = "" if variant == f"Layer{own}" else f" ({own} has no layer variant)"
        raise InputTypeError(
            describe("x", "floating-point inputs to differentiate",
                     got_text=f"dtype {x.dtype}",
                     fix=f"For token ids, attribute the embedding layer: "
                         f"whylens.torch.{variant}(model, model.embedding){note}.")
        )
    return x


# ---------------------------------------------------------------------- the base
class GradientAttribution(CaptumCalls):
    """Base of every gradient attribution (one override point: :meth:`_attribute`).

    Parameters
    ----------
    model : torch.nn.Module
        Returns ``(n, n_outputs)`` scores (or ``(n,)``, read as one output).
    layer : str or torch.nn.Module, optional
        Layer methods only: the layer whose activations are attributed.
    batch_size : int, optional
        Model rows (steps, samples, pairs) per forward/backward. ``None``:
        as many as fit ``memory_budget``.
    memory_budget : int, default=256 MiB
        Bytes that autograd may hold for one chunk when ``batch_size`` is
        ``None``.
    internal_batch_size : int, optional
        captum's name for ``batch_size``.

    Notes
    -----
    The model's training flags and parameters' ``requires_grad`` are as they
    were when a call returns, raises or is cancelled; no hook is left and no
    ``.grad`` is written. Explainers pickle (with their model).
    """

    #: ``Explanation.method`` is ``"torch.<name>"``.
    name = "gradient"
    #: Layer methods take ``(model, layer)``.
    is_layer_method = False
    #: The method's only gradient is the plain one at ``x`` (Saliency,
    #: Input x Gradient): the first forward keeps its graph for it.
    _gradient_at_x = False

    def __init__(self, model: Any, layer: Any = None, *, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        if self.is_layer_method and layer is None:
            raise InputError(describe(
                "layer", "the layer to attribute (a name or submodule)", None,
                f"For input attributions use {type(self).__name__.removeprefix('Layer')}."))
        self.layer = check_module_and_layer(model, layer)
        self.model = model
        self.batch_size = batch_size_argument(batch_size, internal_batch_size)
        self.memory_budget = check_positive_int("memory_budget", memory_budget)
        # rows per chunk found by the memory probe, per input row shape (probe once)
        self._chunk_cache: dict[tuple[Any, ...], int] = {}

    @property
    def internal_batch_size(self) -> int | None:
        """captum's name for :attr:`batch_size`."""
        return self.batch_size

    def __repr__(self) -> str:
        layer = f", layer={self.layer!r}" if self.layer is not None else ""
        return f"{type(self).__name__}(model={type(self.model).__name__}{layer})"

    def _params(self) -> dict[str, Any]:
        return {}

    def _references(self, baselines: Any, x: Tensor) -> Tensor | None:
        """Reference rows to evaluate together with ``x`` in the first forward, or None.

        Their outputs (and layer activations) are then ``run.ref_output``
        (``run.layer_refs``), saving a model call.
        """
        return None

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        """Return ``{"values": Tensor (n, n_labels, *shape), ...}``.

        Optional keys: ``"base_values"`` (n, n_labels) tensor, ``"params"`` dict.
        """
        raise NotImplementedError

    def __call__(self, x: Any, target: Any = None, baselines: Any = None, *,
                 labels: Any = None, progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None) -> Explanation:
        """Explain a batch.

        Parameters
        ----------
        x : Tensor of shape (n, ...)
            Inputs as the model takes them, on the model's device (float for
            input methods; token ids are fine for layer methods).
        target : None, int, or a sequence / array / tensor of length n
            ``None``: each row's predicted class; an int: that output for
            every row; a length-n sequence: one output per row (values
            ``(n, 1, ...)``, labels ``(n, 1)``); ``"all"``: every output.
        baselines : None, number or Tensor, optional
            Reference inputs (methods with a reference): ``None`` is zeros
            (for token ids: id 0, usually padding); a number fills a row; a
            tensor of shape ``x.shape[1:]`` or ``(1 or n, *x.shape[1:])``;
            DeepShap and GradientShap take any number of background rows.
        labels : sequence of int, optional
            Several outputs explained for every row (instead of ``target``).
        progress : bool, optional
            A tqdm bar over the model rows (default: when stderr is a terminal
            and the work takes several chunks).
        callback : callable, optional
            ``callback(done, total)`` after each chunk of model rows; returning
            False or raising :class:`~whylens.errors.Cancelled` stops the call.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, *x.shape[1:]) (layer methods:
            ``*layer_output.shape[1:]``); ``labels`` (n_labels,), or (n,
            n_labels) when rows explain different outputs; ``output``: the
            model's output at ``x``; ``base_values`` and ``delta``
            (completeness gap) for methods with a reference; ``features.data``:
            ``x`` (images channels-last, as CAM explanations; ``values`` keep
            the input's layout).

        Raises
        ------
        InputError
            Input on another device, bad baselines, target out of range, a
            target sequence whose length is not n, both target and labels.
        InputTypeError
            Integer inputs to an input method (use the layer variant).
        Cancelled
            The callback stopped the call.
        ModelError
            The model raised (chained).
        """
        run, result = self._compute(x, target, baselines, labels, progress, callback)
        return self._explanation(run, result)

    def _compute(self, x: Any, target: Any, baselines: Any, labels: Any,
                 progress: bool | None, callback: Any) -> tuple[_Run, dict[str, Any]]:
        """The call's work: the run (rows, labels, outputs) and ``_attribute``'s result."""
        x = as_input(x)
        check_same_device(self.model, x)
        if x.is_floating_point():
            x = x.to(_module_float_dtype(self.model))
        if self.layer is None:
            _float_input(x, self)
        report = _Progress(progress, callback, type(self).__name__)
        with model_lock(self.model):
            run = _Run(self, x.detach(), report)
            state = snapshot_state(self.model)
            try:
                self.model.eval()
                for p in self.model.parameters():
                    p.requires_grad_(False)
                self._first_forward(run, target, labels, baselines)
                result = self._attribute(run, baselines)
            finally:
                report.close()
                restore_state(state)
        return run, result

    def _delta(self, run: _Run, result: dict[str, Any],
               device: Any = None) -> Tensor | None:
        """The completeness gap ``sum(values) - (f(x) - f(reference))`` per row and label.

        Returns
        -------
        Tensor of float64, shape (n, n_labels), or None
            On ``device`` (default: the values'); None for a method without a
            reference (no ``base_values``).
        """
        base = result.get("base_values")
        if base is None:
            return None
        values = result["values"].detach()
        device = values.device if device is None else device
        values = values.to(device, torch.float64)
        out = run.output.detach().to(device, torch.float64)
        labels = run.labels.to(device)
        gap = out.gather(1, labels) - base.detach().to(device, torch.float64)
        return values.flatten(2).sum(dim=2) - gap

    def _first_forward(self, run: _Run, target: Any, labels: Any, baselines: Any) -> None:
        """The outputs at x (and at the references), and the labels they give."""
        n = int(run.x.shape[0])
        # one forward gives the outputs at x and at the references (and the
        # layer's activations at both, for layer methods)
        refs = self._references(baselines, run.x)
        if refs is not None and int(refs.shape[0]) > 1 \
                and torch.equal(refs, refs[:1].expand_as(refs)):
            refs = refs[:1]  # one reference repeated (zeros_like(x)): evaluated once
        rows = run.x if refs is None else torch.cat([run.x, refs])
        # A method whose gradient is taken at x itself keeps the graph of this
        # forward for its backward (when x fits one chunk).
        leaf = (run.x.detach().requires_grad_(True) if self._gradient_at_x and refs is None
                and n <= run.chunk_size(run.x[:1]) else None)
        if leaf is not None:
            out = run._forward_at(leaf, None)
            run.n_evals += n
        elif self.layer is None:
            out = run.forward(rows)
        else:
            acts, out = run.layer_activations(rows)
            run.layer_x = acts[:n]
            run.layer_refs = None if refs is None else acts[n:]
        run.output = out[:n].detach()
        if refs is not None:
            run.refs, run.ref_output = refs, out[n:]
        run.labels = torch.as_tensor(explained_labels(target, labels, run.output),
                                     device=run.x.device)
        if leaf is not None:
            run.x_grads = run._label_grads(out, leaf, None)

    def _explanation(self, run: _Run, result: dict[str, Any]) -> Explanation:
        x = run.x
        values = result["values"].detach().to("cpu", torch.float64)
        out = run.output.detach().to("cpu", torch.float64)
        labels = run.labels.to("cpu")
        base = result.get("base_values")
        gap = self._delta(run, result, "cpu")
        delta = None if gap is None else gap.numpy()
        base = None if base is None else base.detach().to("cpu", torch.float64).numpy()
        kind = {2: "tabular", 3: "sequence", 4: "image"}.get(x.ndim, "tensor")
        if self.layer is not None:
            kind = "layer"
        names = ([f"x{j}" for j in range(int(x.shape[1]))]
                 if kind == "tabular" else [])
        shared = bool((labels == labels[:1]).all())
        params = {"target": (labels[0] if shared else labels).tolist(), "layer": self.layer,
                  "batch_size": run._chunk, "n_backward": run.n_backward}
        params.update(self._params())
        params.update(result.get("params", {}))
        return Explanation(
            values=values.numpy(),
            labels=labels.numpy(),
            method=f"torch.{self.name}",
            features=Features(kind=kind, names=names, data=to_channels_last(x)),
            mode="classification",
            output=out.numpy(),
            output_names=[str(i) for i in range(int(out.shape[1]))],
            base_values=base,
            params=params,
            n_evals=run.n_evals,
            delta=delta,
        )
