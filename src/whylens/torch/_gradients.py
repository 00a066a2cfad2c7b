"""Gradient attributions: saliency, Input×Gradient, Integrated Gradients, SmoothGrad,
guided backprop, DeepLIFT, DeepSHAP, GradientSHAP and their layer variants.

Every method is built as ``Method(model)`` (input attributions) or
``Method(model, layer)`` (attributions of a layer's activations) and called as
``method(x, target=None, baselines=None)``, returning an
:class:`~whylens.Explanation` whose ``values`` have shape
``(n, n_labels, *x.shape[1:])`` (or ``(n, n_labels, *layer_output.shape[1:])``
for layer methods). One override point, :meth:`GradientAttribution._attribute`.

=========================  ====================================================
class                      attribution of x (reference x', label output f)
=========================  ====================================================
Saliency                   |df/dx| (``abs=False``: df/dx)
InputXGradient             x * df/dx
IntegratedGradients        (x - x') * sum_k w_k df/dx(x' + a_k (x - x'))
NoiseTunnel / SmoothGrad   mean (or mean of squares, variance) over x + noise
GuidedBackprop             df/dx with ReLU backward relu(g) * 1[x > 0]
Deconvolution              df/dx with ReLU backward relu(g)
DeepLift                   (x - x') * DeepLIFT multipliers (rescale rule)
DeepShap                   DeepLift averaged over a background set
LayerDeepLift / -DeepShap  DeepLift / DeepShap of the layer's activation
GradientShap               E[(x + e - b) * df/dx(b + a (x + e - b))], b, a, e random
LayerIntegratedGradients   IG of the layer's activation, path between the
                           activations at x' and at x
LayerGradientShap          GradientShap of the layer's activation
=========================  ====================================================

Side effects: none. The model runs in eval mode with every parameter's
``requires_grad`` switched off (so backward computes input gradients only and
no ``.grad`` is written); flags are restored on return, also when the call
raises. Gradients come from ``torch.autograd.grad``; layer methods go through
the one hook manager :class:`whylens.torch.capture`; DeepLIFT and guided
backprop rewrite nonlinearities with a torch function mode
(:mod:`whylens.torch._rules`), never with module backward hooks.

Memory: model rows (interpolation steps, noise samples, background pairs) go
through the model in chunks of ``internal_batch_size`` rows. By default the
chunk is chosen from ``memory_budget``: one probe forward measures the bytes
autograd saves per row, and a chunk holds as many rows as fit in the budget
(captum puts all steps in one batch by default, captum#245).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from whylens._validation import check_positive_int, check_random_state, random_state_param
from whylens.errors import (
    InputError,
    InputTypeError,
    NotSupportedError,
    describe,
)
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.torch._cams import _as_input, _call_model, _resolve_target, _to_channels_last
from whylens.torch._hooks import (
    capture,
    check_module_and_layer,
    check_same_device,
    restore_state,
    snapshot_state,
)

__all__ = [
    "GRADIENT_METHODS",
    "Deconvolution",
    "DeepLift",
    "DeepShap",
    "GradientAttribution",
    "GradientShap",
    "GuidedBackprop",
    "InputXGradient",
    "IntegratedGradients",
    "LayerDeepLift",
    "LayerDeepShap",
    "LayerGradientShap",
    "LayerIntegratedGradients",
    "NoiseTunnel",
    "Saliency",
    "SmoothGrad",
    "attribution",
    "path_weights",
]

INTEGRATION_METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle",
                       "riemann_trapezoid")


def path_weights(n_steps: int, method: str = "gausslegendre") -> tuple[np.ndarray, np.ndarray]:
    """Points ``alphas`` in [0, 1] and weights of a quadrature of ``int_0^1 g(a) da``.

    Parameters
    ----------
    n_steps : int
        Number of points (>= 1; >= 2 for ``riemann_trapezoid``).
    method : {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", \
"riemann_trapezoid"}
        Gauss-Legendre is exact for polynomials of degree ``2 n_steps - 1``.
        The Riemann rules use step ``1 / n_steps`` (trapezoid: ``1 / (n_steps -
        1)`` with halved end weights, so the weights sum to 1; captum's
        trapezoid weights sum to ``1 - 1 / n_steps``).

    Returns
    -------
    alphas : ndarray of shape (n_steps,)
    weights : ndarray of shape (n_steps,), summing to 1
    """
    n = check_positive_int("n_steps", n_steps)
    if method == "gausslegendre":
        nodes, w = np.polynomial.legendre.leggauss(n)
        return (nodes + 1.0) / 2.0, w / 2.0
    if method not in INTEGRATION_METHODS:
        raise InputError(describe("method", f"one of {list(INTEGRATION_METHODS)}", method))
    if method == "riemann_trapezoid":
        n = check_positive_int("n_steps", n_steps, minimum=2)
        w = np.full(n, 1.0 / (n - 1))
        w[[0, -1]] /= 2
        return np.linspace(0.0, 1.0, n), w
    w = np.full(n, 1.0 / n)
    start = {"riemann_left": 0.0, "riemann_right": 1.0 / n, "riemann_middle": 0.5 / n}[method]
    return start + np.arange(n) / n, w


# ---------------------------------------------------------------------- the runner
class _Run:
    """One call's model access: state, chunked forwards and gradients, counters."""

    def __init__(self, method: GradientAttribution, x: Any, callback: Any) -> None:
        self.method = method
        self.model = method.model
        self.x = x
        self.callback = callback
        self.n_evals = 0
        self.n_backward = 0
        self.labels: list[int] = []
        self.output: Any = None
        self._chunk: int | None = method.internal_batch_size
        self.mode_factory: Callable[[], Any] | None = None
        self.layer_x: Any = None
        # reference rows evaluated with x in the first forward (see _references)
        self.refs: Any = None
        self.ref_output: Any = None
        self.layer_refs: Any = None
        # gradients at x from the first forward (methods with _gradient_at_x)
        self.x_grads: Any = None

    # -------------------------------------------------------------- forwards
    def forward(self, inputs: Any) -> Any:
        """Model outputs (m, n_outputs) without gradients, chunked."""
        import torch

        size = self.chunk_size(inputs[:1])
        parts = []
        with torch.no_grad():
            for start in range(0, int(inputs.shape[0]), size):
                part = inputs[start : start + size]
                parts.append(_call_model(self.model, part))
                self.n_evals += int(part.shape[0])
        return torch.cat(parts)

    def layer_activations(self, inputs: Any) -> tuple[Any, Any]:
        """The layer's output and the model's output at ``inputs``, chunked, no gradients.

        Returns
        -------
        activations : Tensor of shape (m, *layer_shape)
        outputs : Tensor of shape (m, n_outputs)
        """
        import torch

        name = self.method.layer
        size = self.chunk_size(inputs[:1])
        parts, outs = [], []
        for start in range(0, int(inputs.shape[0]), size):
            part = inputs[start : start + size]
            with capture(self.model, name) as cap, torch.no_grad():
                outs.append(_call_model(self.model, part))
                self.n_evals += int(part.shape[0])
                if len(cap.activations[name]) > 1:
                    raise NotSupportedError(
                        describe("layer", "a layer called once per forward",
                                 got_text=f"{name!r} called {len(cap.activations[name])} "
                                          "times", fix="Pick a layer that is not reused.")
                    )
                parts.append(cap.last())
        return torch.cat(parts), torch.cat(outs)

    def _forward_at(self, points: Any, inputs: Any) -> Any:
        """The model's output with gradients, ``points`` the input (or the layer's output)."""
        import torch

        mode = self.mode_factory() if self.mode_factory is not None else None
        if self.method.layer is None:
            with torch.enable_grad():
                if mode is not None:
                    with mode:
                        return _call_model(self.model, points)
                return _call_model(self.model, points)
        with capture(self.model, self.method.layer, record=False,
                     replace=lambda _n, _out: points), torch.enable_grad():
            if mode is not None:
                with mode:
                    return _call_model(self.model, inputs)
            return _call_model(self.model, inputs)

    def _label_grads(self, out: Any, leaf: Any) -> Any:
        """``d out[:, label].sum() / d leaf`` per label: (len(leaf), n_labels, ...)."""
        import torch

        grads = []
        for j, label in enumerate(self.labels):
            if not out.requires_grad:
                grads.append(torch.zeros_like(leaf))
                continue
            (g,) = torch.autograd.grad(out[:, label].sum(), leaf,
                                       retain_graph=j < len(self.labels) - 1,
                                       allow_unused=True)
            grads.append(torch.zeros_like(leaf) if g is None else g)
            self.n_backward += 1
        return grads[0].unsqueeze(1) if len(grads) == 1 else torch.stack(grads, dim=1)

    def grads(self, points: Any, inputs: Any = None) -> Any:
        """Gradients of each label's output at ``points``: (m, n_labels, *points.shape[1:]).

        Input methods: ``points`` are the model's inputs. Layer methods:
        ``inputs`` go into the model and the layer passes ``points`` on instead
        of its output (a copy: an in-place op downstream must not touch the leaf).
        """
        leaf = points.detach().requires_grad_(True)
        out = self._forward_at(leaf if self.method.layer is None else leaf.clone(), inputs)
        self.n_evals += int(points.shape[0])
        return self._label_grads(out, leaf)

    def summed_grads(self, fill: Any, reduce: Any, m: int, k: int, like: Any,
                     inputs: Any = None) -> Any:
        """Per-instance weighted sums of gradients at ``m`` points: (k, n_labels, *shape).

        ``fill()`` returns the points (m, *shape), a new tensor; ``reduce(g)``
        maps their gradients (m, *shape) to the k instances' weighted sums
        (k, *shape). The points enter the model as the output of
        :class:`_SummedPoints` of a zero leaf ``u`` of shape (k, *shape), whose
        gradient is that weighted sum: autograd does the summing, the points
        need no copy (an in-place op downstream changes a non-leaf, which is
        allowed) and no (m, n_labels, ...) gradient tensor is kept.
        """
        import torch

        leaf = torch.zeros((k, *like.shape[1:]), dtype=like.dtype,
                           device=like.device).requires_grad_(True)
        with torch.enable_grad():
            points = _summed_points().apply(leaf, fill, reduce)
        out = self._forward_at(points, inputs)
        self.n_evals += m
        return self._label_grads(out, leaf)

    # -------------------------------------------------------------- chunking
    def chunk_size(self, row: Any) -> int:
        """Rows per chunk: ``internal_batch_size``, or what fits the memory budget.

        ``row`` is one model input ``(1, ...)``. The probe runs the model with
        gradients (from the input, or from the layer for layer methods) on 1
        and 2 copies of it and counts the bytes autograd saves for backward;
        the difference is the cost of a row.
        """
        import torch

        if self._chunk is not None:
            return self._chunk
        key = (tuple(row.shape[1:]), str(row.dtype), self.method.layer,
               self.method.memory_budget)
        cached = self.method._chunk_cache.get(key)
        if cached is not None:
            self._chunk = cached
            return cached

        def saved_bytes(k: int) -> int:
            seen: dict[tuple[int, int], int] = {}

            def pack(t: Any) -> Any:
                if isinstance(t, torch.Tensor):
                    seen[(t.data_ptr(), t.numel())] = t.numel() * t.element_size()
                return t

            inp = row.expand(k, *row.shape[1:]).clone()
            if inp.is_floating_point() and self.method.layer is None:
                inp.requires_grad_(True)
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
                    torch.enable_grad():
                if self.method.layer is None:
                    _call_model(self.model, inp)
                else:
                    with capture(self.model, self.method.layer, record=False,
                                 replace=lambda _n, o: o.detach().requires_grad_(True).clone()):
                        _call_model(self.model, inp)
            self.n_evals += k
            return sum(seen.values())

        one, two = saved_bytes(1), saved_bytes(2)
        per_row = max(two - one, one // 2, 1) + 4 * row[0].numel() * row.element_size()
        per_row *= 2  # saved tensors + gradients in flight
        self._chunk = int(np.clip(self.method.memory_budget // per_row, 1, 8192))
        self.method._chunk_cache[key] = self._chunk
        return self._chunk

    def progress(self, done: int, total: int) -> None:
        if self.callback is not None:
            self.callback(done, total)


# ---------------------------------------------------------------------- inputs
def _float_input(x: Any, method: GradientAttribution) -> Any:
    if not x.is_floating_point():
        raise InputTypeError(
            describe("x", "floating-point inputs to differentiate",
                     got_text=f"dtype {x.dtype}",
                     fix=f"For token ids, attribute the embedding layer: "
                         f"Layer{type(method).__name__}(model, model.embedding) "
                         "(whylens.torch.LayerIntegratedGradients).")
        )
    return x


def _baseline_rows(baselines: Any, x: Any, argument: str = "baselines",
                   per_instance: bool = True) -> Any:
    """Baselines as a tensor of shape (k, *x.shape[1:]) on x's device and dtype.

    ``None``: one row of zeros. A scalar fills a row. A tensor of shape
    ``x.shape[1:]`` is one row; ``(k, *x.shape[1:])`` are k rows. With
    ``per_instance`` k must be 1 or ``len(x)``.
    """
    import torch

    if baselines is None:
        return torch.zeros_like(x[:1])
    if isinstance(baselines, (int, float)) and not isinstance(baselines, bool):
        return torch.full_like(x[:1], baselines)
    if isinstance(baselines, np.ndarray):
        baselines = torch.from_numpy(np.ascontiguousarray(baselines))
    if not isinstance(baselines, torch.Tensor):
        raise InputTypeError(
            describe(argument, "None, a number or a tensor shaped like x's rows", baselines)
        )
    b = baselines.to(device=x.device, dtype=x.dtype)
    if tuple(b.shape) == tuple(x.shape[1:]):
        b = b[None]
    n = int(x.shape[0])
    ok = b.ndim == x.ndim and tuple(b.shape[1:]) == tuple(x.shape[1:]) and b.shape[0] >= 1
    if per_instance:
        ok = ok and b.shape[0] in (1, n)
    if not ok:
        rows = f"1 or {n}" if per_instance else "k >= 1"
        raise InputError(
            describe(argument, f"a tensor of shape ({rows}, {', '.join(map(str, x.shape[1:]))})"
                     " or one row", got_text=f"shape {tuple(baselines.shape)}",
                     fix="Give one reference row for all, or one per instance.")
        )
    return b


def _pair_index(b: Any, n: int) -> Any:
    import torch

    return torch.arange(n, device=b.device) if b.shape[0] == n else torch.zeros(
        n, dtype=torch.int64, device=b.device)


def _accumulate(attr: Any, rows: Any, values: Any, weights: Any) -> None:
    """``attr[rows[r]] += weights[r] * values[r]`` as one matrix product.

    ``index_add_`` along the first axis runs row by row on CPU (11 ms for 400
    rows of 2000 numbers); a (instances x rows) weight matrix times the
    flattened rows does the weighting and the sum in one GEMM.
    """
    import torch

    lo, hi = int(rows.min()), int(rows.max()) + 1
    m = int(rows.shape[0])
    mix = torch.zeros((hi - lo, m), dtype=values.dtype, device=values.device)
    mix[rows - lo, torch.arange(m, device=rows.device)] = weights.to(values.dtype)
    attr[lo:hi] += (mix @ values.reshape(m, -1)).view(hi - lo, *values.shape[1:])


_SUMMED_POINTS: Any = None


def _summed_points() -> Any:
    """The autograd Function ``points(u) = fill() + M^T u``, evaluated at ``u = 0``.

    ``apply(u, fill, reduce)`` returns ``fill()`` (a new tensor of m points);
    backward maps the points' gradient ``g`` to ``reduce(g) = M g``, the
    per-instance weighted sums (k, *shape). Made on first use (torch is
    imported lazily).
    """
    global _SUMMED_POINTS
    if _SUMMED_POINTS is None:
        import torch

        class _SummedPoints(torch.autograd.Function):
            @staticmethod
            def forward(ctx: Any, u: Any, fill: Any, reduce: Any) -> Any:
                ctx.reduce = reduce
                return fill()

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                return ctx.reduce(g), None, None

        _SUMMED_POINTS = _SummedPoints
    return _SUMMED_POINTS


def _as_matrix(g: Any) -> tuple[Any, list[int] | None]:
    """``g`` (m, ...) as an (m, F) matrix, without a copy where its memory order allows.

    A gradient that arrives through a transpose (``embedding(ids).transpose(1,
    2)``) is a permuted view of a contiguous tensor; its rows are read in
    memory order. Returns the matrix and that order (None: the given order).
    """
    m = int(g.shape[0])
    if g.is_contiguous():
        return g.reshape(m, -1), None
    order = [0, *sorted(range(1, g.ndim), key=lambda d: -g.stride(d))]
    gp = g.permute(order)
    if gp.is_contiguous():
        return gp.reshape(m, -1), order
    return g.reshape(m, -1), None


def _from_matrix(res: Any, like: Any, order: list[int] | None) -> Any:
    """Undo :func:`_as_matrix` for a (k, F) result: (k, *like.shape[1:])."""
    k = int(res.shape[0])
    if order is None:
        return res.view(k, *like.shape[1:])
    inverse = [order.index(d) for d in range(len(order))]
    return res.view(k, *(like.shape[d] for d in order[1:])).permute(inverse)


def _segments(r0: int, r1: int, steps: int) -> list[tuple[int, int, int, int, int]]:
    """Rows ``r0..r1-1`` of an (instance, step) grid as at most 3 rectangles.

    Each is ``(first instance, instances, first step, end step, first row in
    the chunk)``: the head of a partly covered instance, whole instances, the
    tail of one. Path points of a rectangle are one broadcast ``addcmul`` and
    its weighted gradient sums one matrix product, without gathers.
    """
    segs = []
    r = r0
    while r < r1:
        i, j0 = divmod(r, steps)
        if j0 == 0 and r1 - r >= steps:
            cnt = (r1 - r) // steps
            segs.append((i, cnt, 0, steps, r - r0))
            r += cnt * steps
        else:
            j1 = min(steps, j0 + r1 - r)
            segs.append((i, 1, j0, j1, r - r0))
            r += j1 - j0
    return segs


def _check_float(name: str, value: Any, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputTypeError(describe(name, f"a number >= {minimum}", value))
    if not value >= minimum:
        raise InputError(describe(name, f"a number >= {minimum}", value))
    return float(value)


def _torch_generator(rng: np.random.Generator) -> Any:
    import torch

    return torch.Generator().manual_seed(int(rng.integers(0, 2**63 - 1)))


# ---------------------------------------------------------------------- the base
class GradientAttribution:
    """Base of every gradient attribution (one override point: :meth:`_attribute`).

    Parameters
    ----------
    model : torch.nn.Module
        Returns ``(n, n_outputs)`` scores (or ``(n,)``, read as one output).
    layer : str or torch.nn.Module, optional
        Layer methods only: the layer whose activations are attributed.
    internal_batch_size : int, optional
        Model rows (steps, samples, pairs) per forward/backward. ``None``:
        as many as fit ``memory_budget``.
    memory_budget : int, default=256 MiB
        Bytes that autograd may hold for one chunk when ``internal_batch_size``
        is ``None``.

    Notes
    -----
    The model's training flags and parameters' ``requires_grad`` are as they
    were when a call returns or raises; no hook is left and no ``.grad`` is
    written.
    """

    #: ``Explanation.method`` is ``"torch.<name>"``.
    name = "gradient"
    #: Layer methods take ``(model, layer)``.
    is_layer_method = False
    #: The method's only gradient is the plain one at ``x`` (Saliency,
    #: Input x Gradient): the first forward keeps its graph for it.
    _gradient_at_x = False

    def __init__(self, model: Any, layer: Any = None, *, internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        self.layer = check_module_and_layer(model, layer)
        self.model = model
        self.internal_batch_size = None if internal_batch_size is None else check_positive_int(
            "internal_batch_size", internal_batch_size)
        self.memory_budget = check_positive_int("memory_budget", memory_budget)
        # rows per chunk found by the memory probe, per input row shape (probe once)
        self._chunk_cache: dict[tuple[Any, ...], int] = {}

    def __repr__(self) -> str:
        layer = f", layer={self.layer!r}" if self.layer is not None else ""
        return f"{type(self).__name__}(model={type(self.model).__name__}{layer})"

    def _params(self) -> dict[str, Any]:
        return {}

    def _references(self, baselines: Any, x: Any) -> Any:
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
                 callback: Callable[[int, int], Any] | None = None) -> Explanation:
        """Explain a batch.

        Parameters
        ----------
        x : Tensor of shape (n, ...)
            Inputs as the model takes them, on the model's device (float for
            input methods; token ids are fine for layer methods).
        target : int or sequence of int, optional
            Output indices explained for every instance; ``None``: the top
            class of each instance.
        baselines : None, number or Tensor, optional
            Reference inputs (methods with a reference): ``None`` is zeros
            (for token ids: id 0, usually padding); a number fills a row; a
            tensor of shape ``x.shape[1:]`` or ``(1 or n, *x.shape[1:])``;
            DeepShap and GradientShap take any number of background rows.
        callback : callable, optional
            ``callback(done, total)`` after each chunk of model rows.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, *x.shape[1:]) (layer methods:
            ``*layer_output.shape[1:]``); ``output``: the model's output at
            ``x``; ``base_values`` and ``delta`` (completeness gap) for methods
            with a reference; ``features.data``: ``x`` (images channels-last,
            as CAM explanations; ``values`` keep the input's layout).

        Raises
        ------
        InputError
            Input on another device, bad baselines, target out of range.
        InputTypeError
            Integer inputs to an input method (use the layer variant).
        ModelError
            The model raised (chained).
        """
        x = _as_input(x)
        check_same_device(self.model, x)
        if x.is_floating_point():
            from whylens.models._torch import _module_float_dtype

            x = x.to(_module_float_dtype(self.model))
        if self.layer is None:
            _float_input(x, self)
        import torch

        run = _Run(self, x.detach(), callback)
        n = int(x.shape[0])
        state = snapshot_state(self.model)
        try:
            self.model.eval()
            for p in self.model.parameters():
                p.requires_grad_(False)
            # one forward gives the outputs at x and at the references (and the
            # layer's activations at both, for layer methods)
            refs = self._references(baselines, run.x)
            if refs is not None and int(refs.shape[0]) > 1 \
                    and torch.equal(refs, refs[:1].expand_as(refs)):
                refs = refs[:1]  # one reference repeated (zeros_like(x)): evaluated once
            rows = run.x if refs is None else torch.cat([run.x, refs])
            # A method whose gradient is taken at x itself keeps the graph of
            # this forward for its backward (when x fits one chunk).
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
            run.labels = _resolve_target(target, run.output, int(run.output.shape[1]))
            if leaf is not None:
                run.x_grads = run._label_grads(out, leaf)
            del out, leaf
            result = self._attribute(run, baselines)
        finally:
            restore_state(state)
        return self._explanation(run, result)

    def _explanation(self, run: _Run, result: dict[str, Any]) -> Explanation:
        import torch

        x = run.x
        values = result["values"].detach().to("cpu", torch.float64)
        out = run.output.detach().to("cpu", torch.float64)
        base = result.get("base_values")
        delta = None
        if base is not None:
            base = base.detach().to("cpu", torch.float64)
            gap = out[:, run.labels] - base
            delta = (values.flatten(2).sum(dim=2) - gap).numpy()
            base = base.numpy()
        kind = {2: "tabular", 3: "sequence", 4: "image"}.get(x.ndim, "tensor")
        if self.layer is not None:
            kind = "layer"
        names = ([f"x{j}" for j in range(int(x.shape[1]))]
                 if kind == "tabular" else [])
        params = {"target": list(run.labels), "layer": self.layer,
                  "internal_batch_size": run._chunk, "n_backward": run.n_backward}
        params.update(self._params())
        params.update(result.get("params", {}))
        return Explanation(
            values=values.numpy(),
            labels=np.asarray(run.labels, dtype=np.int64),
            method=f"torch.{self.name}",
            features=Features(kind=kind, names=names, data=_to_channels_last(x)),
            mode="classification",
            output=out.numpy(),
            output_names=[str(i) for i in range(int(out.shape[1]))],
            base_values=base,
            params=params,
            n_evals=run.n_evals,
            delta=delta,
        )

    # ---------------------------------------------------- shared path engine
    def _path(self, run: _Run, starts: Any, ends: Any, rows_i: Any, rows_s: Any, rows_e: Any,
              alphas: Any, weights: Any, inputs: Any = None) -> Any:
        """``attr[i] += w_r (e_r - s_r) * grad f(s_r + a_r (e_r - s_r))`` over rows r.

        Parameters
        ----------
        starts, ends : Tensor of shape (k_s, *shape), (k_e, *shape)
            Path ends (inputs, or layer activations for layer methods).
        rows_i, rows_s, rows_e : LongTensor of shape (R,)
            Per row: the instance, the start and the end.
        alphas, weights : Tensor of shape (R,)
        inputs : Tensor of shape (n, ...), optional
            Layer methods: the model input of each instance.

        Returns
        -------
        Tensor of shape (n, n_labels, *shape)

        Integrated Gradients (one path per instance) use :meth:`_ig_path`.
        """
        import torch

        n = int(run.x.shape[0])
        shape = tuple(ends.shape[1:])
        attr = torch.zeros((n, len(run.labels), *shape), dtype=ends.dtype, device=ends.device)
        total = int(rows_i.shape[0])
        size = run.chunk_size(ends[:1] if inputs is None else inputs[:1])
        alphas = alphas.to(device=ends.device, dtype=ends.dtype)
        weights = weights.to(device=ends.device, dtype=ends.dtype)
        view = (-1,) + (1,) * len(shape)
        for start in range(0, total, size):
            sl = slice(start, start + size)
            s, e = starts[rows_s[sl]], ends[rows_e[sl]]
            diff = e - s
            points = torch.addcmul(s, alphas[sl].view(view), diff)
            g = run.grads(points, None if inputs is None else inputs[rows_i[sl]])
            _accumulate(attr, rows_i[sl], g.mul_(diff[:, None]), weights[sl])
            run.progress(min(start + size, total), total)
        return attr


# ---------------------------------------------------------------------- simple gradients
class Saliency(GradientAttribution):
    """Saliency (Simonyan et al., 2013): the gradient of the label's output.

    Parameters
    ----------
    model : torch.nn.Module
    abs : bool, default=True
        Absolute value of the gradient (captum's default).
    internal_batch_size, memory_budget
        As :class:`GradientAttribution`.
    """

    name = "saliency"
    _gradient_at_x = True

    def __init__(self, model: Any, *, abs: bool = True, internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        super().__init__(model, internal_batch_size=internal_batch_size,
                         memory_budget=memory_budget)
        self.abs = bool(abs)

    def _params(self) -> dict[str, Any]:
        return {"abs": self.abs}

    def _gradient(self, run: _Run, x: Any) -> Any:
        import torch

        if x is run.x and run.x_grads is not None:
            return run.x_grads  # from the first forward (see GradientAttribution.__call__)
        size = run.chunk_size(x[:1])
        parts = []
        for start in range(0, int(x.shape[0]), size):
            parts.append(run.grads(x[start : start + size]))
            run.progress(min(start + size, int(x.shape[0])), int(x.shape[0]))
        return torch.cat(parts)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        g = self._gradient(run, run.x)
        return {"values": g.abs() if self.abs else g}


class _SignedGradient(Saliency):
    """A :class:`Saliency` variant that keeps the gradient's sign and has no options."""

    def __init__(self, model: Any, *, internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        super().__init__(model, abs=False, internal_batch_size=internal_batch_size,
                         memory_budget=memory_budget)

    def _params(self) -> dict[str, Any]:
        return {}


class InputXGradient(_SignedGradient):
    """Input × Gradient (Shrikumar et al., 2016): ``x * df/dx``.

    For a linear model with zero bias the attributions sum to the output.
    """

    name = "inputxgradient"

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        return {"values": self._gradient(run, run.x) * run.x[:, None]}


class GuidedBackprop(_SignedGradient):
    """Guided backpropagation (Springenberg et al., 2015).

    The gradient, except that through every ReLU (module, function or tensor
    method, in-place or not) only positive gradients pass, and only where the
    ReLU's input was positive: ``relu(g) * 1[x > 0]``.
    """

    name = "guidedbackprop"
    _deconv = False
    _gradient_at_x = False  # its gradient runs under the guided rules

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        from whylens.torch._rules import GuidedMode

        run.mode_factory = lambda: GuidedMode(deconv=self._deconv)
        return {"values": self._gradient(run, run.x)}


class Deconvolution(GuidedBackprop):
    """Deconvolution (Zeiler & Fergus, 2014): through every ReLU, ``relu(g)``."""

    name = "deconvolution"
    _deconv = True


# ---------------------------------------------------------------------- integrated gradients
class IntegratedGradients(GradientAttribution):
    """Integrated Gradients (Sundararajan et al., 2017).

    ``IG(x) = (x - x') * int_0^1 df/dx(x' + a (x - x')) da``, the integral
    taken by quadrature (:func:`path_weights`). Completeness: the attributions
    sum to ``f(x) - f(x')`` up to the quadrature error, reported per instance
    and label as ``Explanation.delta``; ``base_values`` is ``f(x')``.

    Parameters
    ----------
    model : torch.nn.Module
    n_steps : int, default=50
    method : str, default="gausslegendre"
        ``"gausslegendre"`` or ``"riemann_left"``, ``"riemann_right"``,
        ``"riemann_middle"``, ``"riemann_trapezoid"``.
    internal_batch_size, memory_budget
        As :class:`GradientAttribution`: the ``n * n_steps`` rows go through the
        model in chunks, so memory stays bounded at any ``n_steps``.

    Examples
    --------
    >>> exp = IntegratedGradients(model, n_steps=64)(x, target=1)  # doctest: +SKIP
    >>> exp.delta  # sum(values) - (f(x) - f(0)), per instance  # doctest: +SKIP
    """

    name = "integratedgradients"

    def __init__(self, model: Any, *, n_steps: int = 50, method: str = "gausslegendre",
                 internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        GradientAttribution.__init__(self, model, getattr(self, "_layer_arg", None),
                                     internal_batch_size=internal_batch_size,
                                     memory_budget=memory_budget)
        self.alphas, self.weights = path_weights(n_steps, method)
        self.n_steps = int(n_steps)
        self.method = method

    def _params(self) -> dict[str, Any]:
        return {"n_steps": self.n_steps, "method": self.method}

    def _ig_path(self, run: _Run, starts: Any, ends: Any, inputs: Any = None) -> Any:
        """``(e_i - s_i) * sum_k w_k grad f(s_i + a_k (e_i - s_i))`` per instance i.

        Parameters
        ----------
        starts : Tensor of shape (1 or n, *shape)
            Path starts (baselines, or their layer activations).
        ends : Tensor of shape (n, *shape)
        inputs : Tensor of shape (n, ...), optional
            Layer methods: the model input of each instance.

        Returns
        -------
        Tensor of shape (n, n_labels, *shape)

        Notes
        -----
        The ``n * n_steps`` rows (instance-major) go through the model in
        chunks; a chunk's rows are at most three rectangles of the (instance,
        step) grid (:func:`_segments`), so its points are broadcast
        ``addcmul`` into one buffer reused by every chunk, with no gathered
        starts or differences; autograd sums the weighted gradients per
        instance (:meth:`_Run.summed_grads`); ``e - s`` multiplies the sums
        once at the end.
        """
        import torch

        n, steps = int(ends.shape[0]), self.n_steps
        shape = tuple(ends.shape[1:])
        dt, dev = ends.dtype, ends.device
        alphas = torch.as_tensor(self.alphas, dtype=dt, device=dev)
        weights = torch.as_tensor(self.weights, dtype=dt, device=dev)
        diffs = ends - starts
        one_start = int(starts.shape[0]) == 1
        attr = torch.zeros((n, len(run.labels), *shape), dtype=dt, device=dev)
        total = n * steps
        size = run.chunk_size(ends[:1] if inputs is None else inputs[:1])
        buf = torch.empty((min(size, total), *shape), dtype=dt, device=dev)
        ones = (1,) * len(shape)

        for r0 in range(0, total, size):
            r1 = min(r0 + size, total)
            m, lo, hi = r1 - r0, r0 // steps, (r1 - 1) // steps + 1
            segs = _segments(r0, r1, steps)

            def fill(segs: Any = segs, m: int = m) -> Any:
                for i, cnt, j0, j1, off in segs:
                    out = buf[off : off + cnt * (j1 - j0)].view(cnt, j1 - j0, *shape)
                    s = starts[:1] if one_start else starts[i : i + cnt]
                    torch.addcmul(s[:, None], alphas[j0:j1].view(1, -1, *ones),
                                  diffs[i : i + cnt, None], out=out)
                return buf[:m].detach()  # not a view for autograd: in-place ops may follow

            def reduce(g: Any, segs: Any = segs, lo: int = lo, hi: int = hi) -> Any:
                rows, order = _as_matrix(g)
                res = torch.empty((hi - lo, int(rows.shape[1])), dtype=rows.dtype,
                                  device=rows.device)
                for i, cnt, j0, j1, off in segs:
                    blk = rows[off : off + cnt * (j1 - j0)].view(cnt, j1 - j0, -1)
                    res[i - lo : i - lo + cnt] = torch.matmul(weights[j0:j1], blk)
                return _from_matrix(res, g, order)

            model_in = None
            if inputs is not None:
                counts = [j1 - j0 for _, cnt, j0, j1, _ in segs for _ in range(cnt)]
                model_in = torch.repeat_interleave(
                    inputs[lo:hi], torch.tensor(counts, device=inputs.device), dim=0,
                    output_size=m)
            attr[lo:hi] += run.summed_grads(fill, reduce, m, hi - lo, ends, model_in)
            run.progress(r1, total)
        attr.mul_(diffs[:, None])
        return attr

    def _references(self, baselines: Any, x: Any) -> Any:
        return _baseline_rows(baselines, x)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        x = run.x
        n = int(x.shape[0])
        if run.refs is None:  # inside a NoiseTunnel
            b = _baseline_rows(baselines, x)
            f_b = None
        else:
            b, f_b = run.refs, run.ref_output
        values = self._ig_path(run, b, x)
        if f_b is None:
            f_b = run.forward(b)
        return {"values": values, "base_values": f_b[:, run.labels][_pair_index(b, n)]}


class LayerIntegratedGradients(IntegratedGradients):
    """Integrated Gradients of a layer's activations (captum's LayerIntegratedGradients).

    The path runs between the layer's activations at the baselines and at
    ``x``: the model is called on ``x`` and the layer passes on the
    interpolated activations. On an embedding layer this attributes each
    token's embedding vector; sum over the last axis for one value per token
    (:class:`whylens.representations.TokenIdRepresentation` does).

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
        A layer called once per forward, returning one tensor.
    n_steps, method, internal_batch_size, memory_budget
        As :class:`IntegratedGradients`.

    Notes
    -----
    Baselines are *inputs* (default zeros: token id 0, usually padding); their
    layer activations start the path. ``values`` has shape
    ``(n, n_labels, *layer_output.shape[1:])``; ``delta`` is the completeness
    gap ``sum(values) - (f(x) - f(baseline))``.
    """

    name = "layerintegratedgradients"
    is_layer_method = True

    def __init__(self, model: Any, layer: Any, *, n_steps: int = 50,
                 method: str = "gausslegendre", internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        if layer is None:
            raise InputError(describe("layer", "the layer to attribute (a name or submodule)",
                                      None, "For input attributions use IntegratedGradients."))
        self._layer_arg = layer
        super().__init__(model, n_steps=n_steps, method=method,
                         internal_batch_size=internal_batch_size, memory_budget=memory_budget)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        x = run.x
        n = int(x.shape[0])
        if run.refs is None:  # inside a NoiseTunnel
            b = _baseline_rows(baselines, x)
            a_b, f_b = run.layer_activations(b)
        else:
            b, a_b, f_b = run.refs, run.layer_refs, run.ref_output
        values = self._ig_path(run, a_b, run.layer_x, inputs=x)
        base = f_b[:, run.labels][_pair_index(b, n)]
        return {"values": values, "base_values": base}


# ---------------------------------------------------------------------- gradient SHAP
class GradientShap(GradientAttribution):
    """GradientSHAP (Lundberg & Lee, 2017; shap's GradientExplainer, captum's GradientShap).

    Expected gradients: for each instance, ``n_samples`` draws of a background
    row ``b``, a point ``a ~ U(0, 1)`` and noise ``e ~ N(0, stdevs²)``;
    ``values = mean (x + e - b) * df/dx(b + a (x + e - b))``. Its expectation
    is SHAP values of the linearised model, so the sum approaches ``f(x) -
    mean f(background)`` (``delta`` reports the gap).

    Parameters
    ----------
    model : torch.nn.Module
    n_samples : int, default=5
    stdevs : float, default=0.0
    random_state : int or numpy.random.Generator, optional
    internal_batch_size, memory_budget
        As :class:`GradientAttribution`.
    """

    name = "gradientshap"

    def __init__(self, model: Any, *, n_samples: int = 5, stdevs: float = 0.0,
                 random_state: Any = None, internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        GradientAttribution.__init__(self, model, getattr(self, "_layer_arg", None),
                                     internal_batch_size=internal_batch_size,
                                     memory_budget=memory_budget)
        self.n_samples = check_positive_int("n_samples", n_samples)
        self.stdevs = _check_float("stdevs", stdevs)
        check_random_state(random_state)
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        return {"n_samples": self.n_samples, "stdevs": self.stdevs,
                "random_state": random_state_param(self.random_state)}

    def _draws(self, n: int, k: int, dev: Any) -> tuple[Any, Any, Any]:
        import torch

        rng = check_random_state(self.random_state)
        gen = _torch_generator(rng)
        s = self.n_samples
        rows_i = torch.arange(n).repeat_interleave(s).to(dev)
        rows_s = torch.randint(0, k, (n * s,), generator=gen).to(dev)
        alphas = torch.rand(n * s, generator=gen, dtype=torch.float64).to(dev)
        return rows_i, rows_s, alphas, gen

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        import torch

        x = run.x
        n = int(x.shape[0])
        b = _baseline_rows(baselines, x, per_instance=False)
        rows_i, rows_s, alphas, gen = self._draws(n, int(b.shape[0]), x.device)
        ends = x[rows_i]
        if self.stdevs > 0:
            noise = torch.randn(ends.shape, generator=gen, dtype=torch.float64)
            ends = ends + (noise * self.stdevs).to(device=x.device, dtype=x.dtype)
        rows_e = torch.arange(int(ends.shape[0]), device=x.device)
        weights = torch.full((n * self.n_samples,), 1.0 / self.n_samples, dtype=torch.float64)
        values = self._path(run, b, ends, rows_i, rows_s, rows_e, alphas, weights)
        base = run.forward(b)[:, run.labels].mean(dim=0, keepdim=True).expand(n, -1)
        return {"values": values, "base_values": base}


class LayerGradientShap(GradientShap):
    """GradientSHAP of a layer's activations (captum's LayerGradientShap).

    Paths run between the layer's activations at background inputs and at
    ``x``; ``stdevs`` noise, when asked, is added to those activations.
    Baselines are background *inputs* (any number of rows; default one row
    of zeros). ``values``: ``(n, n_labels, *layer_output.shape[1:])``.

    captum interpolates the *inputs* (and adds the noise there) and takes the
    layer's gradient at the interpolated input's activations. The two agree,
    for the same draws, when the layer is affine in the input (a first
    convolution or linear layer); on an embedding of token ids only the
    activations can be interpolated.
    """

    name = "layergradientshap"
    is_layer_method = True

    def __init__(self, model: Any, layer: Any, *, n_samples: int = 5, stdevs: float = 0.0,
                 random_state: Any = None, internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        if layer is None:
            raise InputError(describe("layer", "the layer to attribute (a name or submodule)",
                                      None, "For input attributions use GradientShap."))
        self._layer_arg = layer
        super().__init__(model, n_samples=n_samples, stdevs=stdevs,
                         random_state=random_state, internal_batch_size=internal_batch_size,
                         memory_budget=memory_budget)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        import torch

        x = run.x
        n = int(x.shape[0])
        b = _baseline_rows(baselines, x, per_instance=False)
        a_x = run.layer_x
        a_b, f_b = run.layer_activations(b)
        rows_i, rows_s, alphas, gen = self._draws(n, int(b.shape[0]), x.device)
        ends = a_x[rows_i]
        if self.stdevs > 0:
            noise = torch.randn(ends.shape, generator=gen, dtype=torch.float64)
            ends = ends + (noise * self.stdevs).to(device=x.device, dtype=ends.dtype)
        rows_e = torch.arange(int(ends.shape[0]), device=x.device)
        weights = torch.full((n * self.n_samples,), 1.0 / self.n_samples, dtype=torch.float64)
        values = self._path(run, a_b, ends, rows_i, rows_s, rows_e, alphas, weights, inputs=x)
        base = f_b[:, run.labels].mean(dim=0, keepdim=True).expand(n, -1)
        return {"values": values, "base_values": base}


# ---------------------------------------------------------------------- noise tunnel
class NoiseTunnel(GradientAttribution):
    """Average another attribution over noisy copies of the input (SmoothGrad and kin).

    Noisy inputs are made and attributed a chunk at a time and only running
    sums are kept, so memory does not grow with ``nt_samples``; each noisy row
    has its own seeded draw, so the result does not depend on the chunking.
    Over a layer method (``NoiseTunnel(LayerIntegratedGradients(model,
    layer))``, as captum's) the noise is added to the model's input and the
    values are the layer's attributions; the input must be floating point.

    Parameters
    ----------
    method : GradientAttribution
        An input or layer attribution (``Saliency(model)``,
        ``IntegratedGradients(model)``, ``LayerIntegratedGradients(model,
        layer)``...).
    nt_type : {"smoothgrad", "smoothgrad_sq", "vargrad"}, default="smoothgrad"
        Mean, mean of squares, or variance of the attributions.
    nt_samples : int, default=5
    stdevs : float, default=1.0
        Standard deviation of the Gaussian noise, in input units (as captum;
        SmoothGrad's paper uses 10-20% of the input's range).
    random_state : int or numpy.random.Generator, optional
    """

    name = "noisetunnel"
    NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")

    def __init__(self, method: GradientAttribution, *, nt_type: str = "smoothgrad",
                 nt_samples: int = 5, stdevs: float = 1.0, random_state: Any = None) -> None:
        if not isinstance(method, GradientAttribution) or isinstance(method, NoiseTunnel):
            raise InputTypeError(
                describe("method", "a gradient attribution (not a NoiseTunnel) such as "
                         "Saliency(model) or LayerIntegratedGradients(model, layer)", method)
            )
        super().__init__(method.model, method.layer,
                         internal_batch_size=method.internal_batch_size,
                         memory_budget=method.memory_budget)
        if nt_type not in self.NT_TYPES:
            raise InputError(describe("nt_type", f"one of {list(self.NT_TYPES)}", nt_type))
        self.inner = method
        self.nt_type = nt_type
        self.nt_samples = check_positive_int("nt_samples", nt_samples)
        self.stdevs = _check_float("stdevs", stdevs)
        check_random_state(random_state)
        self.random_state = random_state

    def __repr__(self) -> str:
        return f"NoiseTunnel({self.inner!r}, nt_type={self.nt_type!r})"

    def _params(self) -> dict[str, Any]:
        return {"inner": self.inner.name, **self.inner._params(), "nt_type": self.nt_type,
                "nt_samples": self.nt_samples, "stdevs": self.stdevs,
                "random_state": random_state_param(self.random_state)}

    def _noise(self, seed: int, rows: Any, shape: tuple[int, ...], dtype: Any) -> Any:
        """Noise of the given flat sample rows; row ``r`` always gets the same draw.

        Each row has its own generator seeded from ``(seed, r)``, so the noise,
        and the attributions, do not depend on how rows are chunked.
        """
        import torch

        out = torch.empty((len(rows), *shape), dtype=dtype)
        gen = torch.Generator()
        for k, r in enumerate(rows):
            gen.manual_seed((seed * 1_000_003 + int(r)) % (2**63 - 1))
            torch.randn(shape, generator=gen, dtype=dtype, out=out[k])
        return out

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        import torch

        x = run.x
        if self.layer is not None and not x.is_floating_point():
            raise InputTypeError(
                describe("x", "floating-point inputs (the noise is added to the model's input)",
                         got_text=f"dtype {x.dtype}",
                         fix="For token ids, use the layer method without NoiseTunnel, or "
                             "LayerGradientShap(model, layer, stdevs=...) which adds noise "
                             "to the layer's activations.")
            )
        n, s = int(x.shape[0]), self.nt_samples
        seed = int(check_random_state(self.random_state).integers(0, 2**62))
        b = None if baselines is None else _baseline_rows(baselines, x)
        # Noisy inputs are made and attributed a group at a time (as many rows
        # as a chunk), and only the running sums are kept: memory does not grow
        # with nt_samples.
        group = max(run.chunk_size(x[:1]), 1)
        total = n * s
        first = second = None
        for start in range(0, total, group):
            rows = torch.arange(start, min(start + group, total))
            inst = rows // s
            noisy = x[inst.to(x.device)]
            noise = self._noise(seed, rows.tolist(), tuple(x.shape[1:]), x.dtype)
            noisy.add_(noise.to(x.device), alpha=self.stdevs)
            inner_run = _Run(self.inner, noisy, None)
            inner_run.labels = run.labels
            inner_run._chunk = run._chunk
            if self.layer is not None:
                inner_run.layer_x, _ = inner_run.layer_activations(noisy)
            inner_b = None if b is None else (b[inst.to(b.device)] if b.shape[0] == n else b)
            a = self.inner._attribute(inner_run, inner_b)["values"]
            run.n_evals += inner_run.n_evals
            run.n_backward += inner_run.n_backward
            index = inst.to(a.device)
            if first is None:
                first = torch.zeros((n, *a.shape[1:]), dtype=a.dtype, device=a.device)
                second = torch.zeros_like(first)
            first.index_add_(0, index, a)
            if self.nt_type != "smoothgrad":
                second.index_add_(0, index, a * a)
            run.progress(min(start + group, total), total)
        mean = first / s
        if self.nt_type == "smoothgrad":
            values = mean
        elif self.nt_type == "smoothgrad_sq":
            values = second / s
        else:
            values = (second / s - mean * mean).clamp_min(0)
        return {"values": values}


class SmoothGrad(NoiseTunnel):
    """SmoothGrad (Smilkov et al., 2017): saliency averaged over noisy inputs.

    ``SmoothGrad(model)`` is ``NoiseTunnel(Saliency(model, abs=abs))`` with
    the paper's 50 samples; with ``stdevs=0`` it equals :class:`Saliency`.

    Parameters
    ----------
    model : torch.nn.Module
    nt_samples : int, default=50
    stdevs : float, default=0.15
        Noise standard deviation in input units (the paper's 15% of a [0, 1]
        input range).
    abs : bool, default=False
        Average absolute gradients (``True``) or signed ones.
    nt_type, random_state, internal_batch_size, memory_budget
        As :class:`NoiseTunnel` and :class:`GradientAttribution`.
    """

    name = "smoothgrad"

    def __init__(self, model: Any, *, nt_samples: int = 50, stdevs: float = 0.15,
                 abs: bool = False, nt_type: str = "smoothgrad", random_state: Any = None,
                 internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        super().__init__(Saliency(model, abs=abs, internal_batch_size=internal_batch_size,
                                  memory_budget=memory_budget),
                         nt_type=nt_type, nt_samples=nt_samples, stdevs=stdevs,
                         random_state=random_state)


# ---------------------------------------------------------------------- DeepLIFT / DeepSHAP
class DeepLift(GradientAttribution):
    """DeepLIFT with the rescale rule (Shrikumar et al., 2017), as captum's DeepLift.

    ``values = (x - x') * m`` where the multipliers ``m`` are the gradient with
    every elementwise nonlinearity's derivative replaced by
    ``(g(z) - g(z')) / (z - z')`` at its input ``z`` and reference input
    ``z'``. For networks of linear layers and elementwise nonlinearities the
    attributions sum exactly to ``f(x) - f(x')`` (summation-to-delta); other
    nonlinear operations (recurrent cells, attention, products of
    activations) pass plain gradients and ``delta`` shows the gap.

    Input and reference run through the model as one batch ``[x; x']``, so the
    model must treat batch rows independently (eval-mode BatchNorm does).
    In-place ReLUs, functional ``torch.relu`` and modules reused in one
    forward are handled (see :mod:`whylens.torch._rules`).

    Besides elementwise nonlinearities, max pooling (``nn.MaxPool1d/2d/3d``,
    ``F.max_pool*d``) passes captum's max-pool multipliers (summation-to-delta
    holds), and softmax / log-softmax (module, ``F.softmax``,
    ``torch.softmax``, ``x.softmax``) the rescale multipliers centred as
    ``softmax`` says.

    Agreement with captum's DeepLift: equal (to rounding) on networks where
    no two of captum's hooked modules (ReLU, Sigmoid, MaxPool, Softmax...)
    follow each other directly. Where one feeds the next (``ReLU`` then
    ``MaxPool2d``), captum's hooks on the shared tensor pass the second
    module's plain gradient to the first rule, and its attributions miss
    summation-to-delta by a few percent; whylens applies both rules.

    Parameters
    ----------
    model : torch.nn.Module
    softmax : {"captum", "centered"}, default="captum"
        Softmax / log-softmax rule. ``"captum"``: captum's (elementwise rescale
        minus its mean over the input-reference pair; captum takes the mean
        over the whole batch, so compare one instance at a time); the sum of
        the attributions misses ``f(x) - f(x')`` by ``mean * sum(z - z')``.
        ``"centered"``: rescale by the centred input difference and subtract
        the mean along the softmax's dimension: summation-to-delta holds
        exactly, and adding a constant to the logits changes nothing.
    internal_batch_size, memory_budget
        As :class:`GradientAttribution` (a row is an input-reference pair).
    """

    name = "deeplift"

    def __init__(self, model: Any, *, softmax: str = "captum",
                 internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        GradientAttribution.__init__(self, model, getattr(self, "_layer_arg", None),
                                     internal_batch_size=internal_batch_size,
                                     memory_budget=memory_budget)
        from whylens.torch._rules import SOFTMAX_RULES

        if softmax not in SOFTMAX_RULES:
            raise InputError(describe("softmax", f"one of {list(SOFTMAX_RULES)}", softmax,
                                      "'centered' keeps summation-to-delta exact."))
        self.softmax = softmax

    def _params(self) -> dict[str, Any]:
        return {"softmax": self.softmax}

    def _pairs(self, run: _Run, b: Any, rows_i: Any, rows_j: Any, weights: Any,
               a_x: Any = None, a_b: Any = None) -> Any:
        """``attr[i] += w (x_i - b_j) * m(x_i, b_j)`` over pairs (i, j).

        Layer methods pass the layer's activations at ``x`` and at ``b``
        (``a_x``, ``a_b``): the differences and multipliers are those of the
        activations, and the model runs on ``[x_i; b_j]``.
        """
        import torch
        from whylens.torch._rules import DeepLiftMode

        x = run.x
        n = int(x.shape[0])
        ends, starts = (x, b) if a_x is None else (a_x, a_b)
        attr = torch.zeros((n, len(run.labels), *ends.shape[1:]), dtype=ends.dtype,
                           device=ends.device)
        run.mode_factory = lambda: DeepLiftMode(softmax=self.softmax)
        size = max(run.chunk_size(x[:1]) // 2, 1)
        total = int(rows_i.shape[0])
        view = (-1,) + (1,) * (ends.ndim - 1)
        weights = weights.to(device=ends.device, dtype=ends.dtype)
        try:
            for start in range(0, total, size):
                sl = slice(start, start + size)
                ei, sj = ends[rows_i[sl]], starts[rows_j[sl]]
                m = int(ei.shape[0])
                if a_x is None:
                    g = run.grads(torch.cat([ei, sj]))[:m]
                else:
                    g = run.grads(torch.cat([ei, sj]),
                                  torch.cat([x[rows_i[sl]], b[rows_j[sl]]]))[:m]
                attr.index_add_(0, rows_i[sl], g * (weights[sl].view(view) * (ei - sj))[:, None])
                run.progress(min(start + size, total), total)
        finally:
            run.mode_factory = None
        return attr

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        import torch

        x = run.x
        n = int(x.shape[0])
        b = _baseline_rows(baselines, x)
        rows_j = _pair_index(b, n)
        rows_i = torch.arange(n, device=x.device)
        weights = torch.ones(n, dtype=torch.float64)
        values, f_b = self._pair_values(run, b, rows_i, rows_j, weights)
        return {"values": values, "base_values": f_b[:, run.labels][rows_j]}

    def _pair_values(self, run: _Run, b: Any, rows_i: Any, rows_j: Any, weights: Any
                     ) -> tuple[Any, Any]:
        """Weighted attributions of the (row ``rows_i``, baseline ``rows_j``) pairs,
        at the input or at ``self.layer``, and the model's outputs at the baselines."""
        if self.layer is None:
            values = self._pairs(run, b, rows_i, rows_j, weights)
            return values, run.forward(b)
        a_b, f_b = run.layer_activations(b)
        return self._pairs(run, b, rows_i, rows_j, weights, run.layer_x, a_b), f_b


class DeepShap(DeepLift):
    """DeepSHAP: DeepLIFT averaged over a background set (shap's DeepExplainer).

    ``values[i] = mean_j DeepLIFT(x_i; reference b_j)``. ``base_values`` is
    the mean output over the background (shap's ``expected_value``), and the
    values sum to ``f(x) - expected_value`` (additivity, reported per instance
    and label in ``delta``; exact for networks of linear layers and
    elementwise nonlinearities).

    Parameters
    ----------
    model : torch.nn.Module
    background : Tensor of shape (k, *x.shape[1:]), optional
        Reference rows (shap's ``data``; 100 or fewer is usual). A call's
        ``baselines`` overrides it; ``None`` in both: one row of zeros.
    softmax : {"captum", "centered"}, default="captum"
        As :class:`DeepLift`.
    internal_batch_size, memory_budget
        As :class:`GradientAttribution`.

    Examples
    --------
    >>> explainer = DeepShap(model, background=X_train[:100])  # doctest: +SKIP
    >>> exp = explainer(X_test[:5])                            # doctest: +SKIP
    >>> sv = explainer.shap_values(X_test[:5])                 # shap's layout  # doctest: +SKIP
    """

    name = "deepshap"

    def __init__(self, model: Any, background: Any = None, *, softmax: str = "captum",
                 internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        super().__init__(model, softmax=softmax, internal_batch_size=internal_batch_size,
                         memory_budget=memory_budget)
        self.background = background
        self._expected: Any = None

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        import torch

        x = run.x
        n = int(x.shape[0])
        b = _baseline_rows(self.background if baselines is None else baselines, x,
                           argument="background" if baselines is None else "baselines",
                           per_instance=False)
        k = int(b.shape[0])
        rows_i = torch.arange(n, device=x.device).repeat_interleave(k)
        rows_j = torch.arange(k, device=x.device).repeat(n)
        weights = torch.full((n * k,), 1.0 / k, dtype=torch.float64)
        values, f_b = self._pair_values(run, b, rows_i, rows_j, weights)
        self._expected = f_b.mean(dim=0).detach().to("cpu", torch.float64).numpy()
        base = f_b[:, run.labels].mean(dim=0, keepdim=True).expand(n, -1)
        return {"values": values, "base_values": base, "params": {"n_background": k}}

    @property
    def expected_value(self) -> Any:
        """Mean model output over the background, per output (a float for one output).

        Computed by the first call (as shap's DeepExplainer computes it at
        construction); ``None`` before.
        """
        if self._expected is None:
            return None
        return float(self._expected[0]) if self._expected.shape[0] == 1 else self._expected

    def shap_values(self, X: Any, target: Any = None) -> np.ndarray:
        """SHAP values in shap's layout: ``(n, *x.shape[1:])`` for one label, else
        ``(n, *x.shape[1:], n_labels)``; every output is explained when ``target`` is None.
        """
        from whylens.models._torch import torch_predict_fn

        x = _as_input(X)
        if target is None:
            target = list(range(int(torch_predict_fn(self.model)(x[:1]).shape[1])))
        return self(x, target=target).shap_values


def _require_layer(layer: Any, instead: str) -> None:
    if layer is None:
        raise InputError(describe("layer", "the layer to attribute (a name or submodule)",
                                  None, f"For input attributions use {instead}."))


class LayerDeepLift(DeepLift):
    """DeepLIFT of a layer's activations (captum's LayerDeepLift).

    ``values = (a(x) - a(x')) * m`` where ``a`` is the layer's output and
    ``m`` the DeepLIFT multipliers from the model's output back to it (the
    rules of :class:`DeepLift` apply downstream of the layer). Summation to
    delta: the values sum to ``f(x) - f(x')`` (networks of linear layers,
    elementwise nonlinearities, max pooling, ``softmax="centered"``).

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
        A layer called once per forward, returning one tensor.
    softmax, internal_batch_size, memory_budget
        As :class:`DeepLift`.

    Notes
    -----
    Baselines are *inputs* (default zeros); their activations at the layer
    are the reference. ``values`` has shape ``(n, n_labels,
    *layer_output.shape[1:])``.
    """

    name = "layerdeeplift"
    is_layer_method = True

    def __init__(self, model: Any, layer: Any, *, softmax: str = "captum",
                 internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        _require_layer(layer, "DeepLift")
        self._layer_arg = layer
        super().__init__(model, softmax=softmax, internal_batch_size=internal_batch_size,
                         memory_budget=memory_budget)


class LayerDeepShap(DeepShap):
    """DeepSHAP of a layer's activations (captum's LayerDeepLiftShap).

    ``values[i] = mean_j LayerDeepLift(x_i; reference b_j)`` over background
    *inputs* ``b_j``; ``base_values`` is the mean output over the background
    and ``delta`` the additivity gap. The workbench's per-layer SHAP.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
        A layer called once per forward, returning one tensor.
    background : Tensor of shape (k, *x.shape[1:]), optional
        Background inputs (``None``: one row of zeros); a call's
        ``baselines`` overrides it.
    softmax, internal_batch_size, memory_budget
        As :class:`DeepLift`.
    """

    name = "layerdeepshap"
    is_layer_method = True

    def __init__(self, model: Any, layer: Any, background: Any = None, *,
                 softmax: str = "captum", internal_batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        _require_layer(layer, "DeepShap")
        self._layer_arg = layer
        super().__init__(model, background, softmax=softmax,
                         internal_batch_size=internal_batch_size, memory_budget=memory_budget)


# ---------------------------------------------------------------------- factory
GRADIENT_METHODS: dict[str, type[GradientAttribution]] = {
    cls.name: cls
    for cls in (Saliency, InputXGradient, IntegratedGradients, SmoothGrad, GuidedBackprop,
                Deconvolution, DeepLift, DeepShap, GradientShap, LayerIntegratedGradients,
                LayerGradientShap, LayerDeepLift, LayerDeepShap)
}


def attribution(method: str, model: Any, layer: Any = None, **kwargs: Any
                ) -> GradientAttribution:
    """Build a gradient attribution by name (the workbench calls it with plain parameters).

    Parameters
    ----------
    method : str
        One of ``GRADIENT_METHODS`` (``"saliency"``, ``"integratedgradients"``,
        ``"ig"``, ``"smoothgrad"``, ``"deeplift"``, ``"deepshap"``, ...).
        With a ``layer``, ``"integratedgradients"``, ``"gradientshap"``,
        ``"deeplift"`` and ``"deepshap"`` give the layer variants.
    model : torch.nn.Module
    layer : str or torch.nn.Module, optional
    **kwargs
        The method's parameters.

    Returns
    -------
    GradientAttribution
    """
    key = str(method).lower().replace("_", "").replace("-", "").replace(" ", "")
    key = {"ig": "integratedgradients", "inputxgrad": "inputxgradient",
           "gradshap": "gradientshap", "guided": "guidedbackprop"}.get(key, key)
    if layer is not None and key in ("integratedgradients", "gradientshap", "deeplift",
                                     "deepshap"):
        key = "layer" + key
    if key not in GRADIENT_METHODS:
        raise InputError(describe("method", f"one of {sorted(GRADIENT_METHODS)}", method))
    cls = GRADIENT_METHODS[key]
    if cls.is_layer_method:
        return cls(model, layer, **kwargs)  # type: ignore[call-arg]
    if layer is not None:
        raise InputError(describe("layer", f"None for the input method {key!r}", layer,
                                  "Layer variants: integratedgradients, gradientshap, deeplift, "
                                  "deepshap."))
    return cls(model, **kwargs)
