"""The one runner of the gradient attributions: a call's model access.

:class:`_Run` holds one call's state (the rows, the labels of each row, the
counters) and runs the model on chunks of rows: forwards without gradients,
gradients of each row's labels (at the input, or at a layer through the one
hook manager :class:`whylens.torch.capture`), the chunk size from the memory
budget. :func:`path_sums` is the path engine of Integrated Gradients and
GradientSHAP: weighted gradient sums over an (instance, step) grid of points.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

import torch
from torch import Tensor
from whylens._convention import checked_callback
from whylens.errors import NotSupportedError, describe
from whylens.torch._hooks import capture
from whylens.torch._inputs import call_model

if TYPE_CHECKING:
    from whylens.torch._attribution import GradientAttribution

__all__ = ["path_sums"]


class _SummedPoints(torch.autograd.Function):
    """``points(u) = fill() + M^T u``, evaluated at ``u = 0``.

    ``apply(u, fill, reduce)`` returns ``fill()`` (a new tensor of m points);
    backward maps the points' gradient ``g`` to ``reduce(g) = M g``, the
    per-instance weighted sums (k, *shape).
    """

    @staticmethod
    def forward(ctx: Any, u: Tensor, fill: Callable[[], Tensor],
                reduce: Callable[[Tensor], Tensor]) -> Tensor:
        ctx.reduce = reduce
        return fill()

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None, None]:
        return ctx.reduce(g), None, None


class _Progress:
    """``progress=`` and ``callback=`` of one call: a tqdm bar and the checked callback.

    The bar opens when a report shows more chunks to come (``progress=True``,
    or ``None`` and stderr is a terminal); a report with another total (the
    next phase of a method) restarts it.
    """

    def __init__(self, progress: bool | None, callback: Any, name: str) -> None:
        self.show = bool(progress) or (progress is None and sys.stderr.isatty())
        self.callback = checked_callback(callback)
        self.name = name
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.show and (self.bar is not None or done < total):
            if self.bar is None:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=f"whylens: {self.name}", unit="rows",
                                leave=False)
            elif self.bar.total != total:
                self.bar.reset(total=total)
            self.bar.update(done - self.bar.n)
        if self.callback is not None:
            self.callback(done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Run:
    """One call's model access: chunked forwards and gradients, labels, counters.

    ``labels`` is a LongTensor (len(x), n_labels): the outputs explained for
    each row of ``x``. Gradient calls name, for each model row, the row of
    ``x`` it belongs to (``rows``), so every row is differentiated at its own
    labels.
    """

    def __init__(self, method: GradientAttribution, x: Tensor,
                 progress: Callable[[int, int], None] | None) -> None:
        self.method = method
        self.model = method.model
        self.x = x
        self.report = progress
        self.n_evals = 0
        self.n_backward = 0
        self.labels: Tensor = torch.zeros((0, 1), dtype=torch.int64)
        #: the label column whose gradient autograd is computing (see path_sums)
        self.label_pos = 0
        self.output: Tensor | None = None
        self._chunk: int | None = method.batch_size
        self.mode_factory: Callable[[], Any] | None = None
        self.layer_x: Tensor | None = None
        # reference rows evaluated with x in the first forward (see _references)
        self.refs: Tensor | None = None
        self.ref_output: Tensor | None = None
        self.layer_refs: Tensor | None = None
        # gradients at x from the first forward (methods with _gradient_at_x)
        self.x_grads: Tensor | None = None

    @property
    def n_labels(self) -> int:
        return int(self.labels.shape[1])

    def progress(self, done: int, total: int) -> None:
        if self.report is not None:
            self.report(done, total)

    # -------------------------------------------------------------- forwards
    def forward(self, inputs: Tensor) -> Tensor:
        """Model outputs (m, n_outputs) without gradients, chunked."""
        size = self.chunk_size(inputs[:1])
        parts = []
        with torch.no_grad():
            for start in range(0, int(inputs.shape[0]), size):
                part = inputs[start : start + size]
                parts.append(call_model(self.model, part))
                self.n_evals += int(part.shape[0])
        return torch.cat(parts)

    def layer_activations(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        """The layer's output and the model's output at ``inputs``, chunked, no gradients.

        Returns
        -------
        activations : Tensor of shape (m, *layer_shape)
        outputs : Tensor of shape (m, n_outputs)
        """
        name = self.method.layer
        size = self.chunk_size(inputs[:1])
        parts, outs = [], []
        for start in range(0, int(inputs.shape[0]), size):
            part = inputs[start : start + size]
            with capture(self.model, name) as cap, torch.no_grad():
                outs.append(call_model(self.model, part))
                self.n_evals += int(part.shape[0])
                if len(cap.activations[name]) > 1:
                    raise NotSupportedError(
                        describe("layer", "a layer called once per forward",
                                 got_text=f"{name!r} called {len(cap.activations[name])} "
                                          "times", fix="Pick a layer that is not reused.")
                    )
                parts.append(cap.last())
        return torch.cat(parts), torch.cat(outs)

    def _forward_at(self, points: Tensor, inputs: Tensor | None) -> Tensor:
        """The model's output with gradients, ``points`` the input (or the layer's output)."""
        mode = self.mode_factory() if self.mode_factory is not None else None
        if self.method.layer is None:
            with torch.enable_grad():
                if mode is not None:
                    with mode:
                        return call_model(self.model, points)
                return call_model(self.model, points)
        with capture(self.model, self.method.layer, record=False,
                     replace=lambda _n, _out: points), torch.enable_grad():
            if mode is not None:
                with mode:
                    return call_model(self.model, inputs)
            return call_model(self.model, inputs)

    def _label_grads(self, out: Tensor, leaf: Tensor, rows: Tensor | None) -> Tensor:
        """``d sum_r out[r, label of row r] / d leaf`` per label column.

        ``rows`` (len(out),): the row of ``x`` each output row belongs to
        (``None``: row r is row r of ``x``). Returns (len(leaf), n_labels, ...).
        """
        labels = self.labels if rows is None else self.labels[rows]
        grads = []
        last = self.n_labels - 1
        for j in range(self.n_labels):
            if not out.requires_grad:
                grads.append(torch.zeros_like(leaf))
                continue
            self.label_pos = j
            score = out.gather(1, labels[:, j : j + 1]).sum()
            (g,) = torch.autograd.grad(score, leaf, retain_graph=j < last, allow_unused=True)
            grads.append(torch.zeros_like(leaf) if g is None else g)
            self.n_backward += 1
        return grads[0].unsqueeze(1) if len(grads) == 1 else torch.stack(grads, dim=1)

    def grads(self, points: Tensor, inputs: Tensor | None = None,
              rows: Tensor | None = None) -> Tensor:
        """Gradients of each label's output at ``points``: (m, n_labels, *points.shape[1:]).

        Input methods: ``points`` are the model's inputs. Layer methods:
        ``inputs`` go into the model and the layer passes ``points`` on instead
        of its output (a copy: an in-place op downstream must not touch the leaf).
        ``rows``: as :meth:`_label_grads`.
        """
        leaf = points.detach().requires_grad_(True)
        out = self._forward_at(leaf if self.method.layer is None else leaf.clone(), inputs)
        self.n_evals += int(points.shape[0])
        return self._label_grads(out, leaf, rows)

    def summed_grads(self, fill: Callable[[], Tensor], reduce: Callable[[Tensor], Tensor],
                     m: int, k: int, like: Tensor, inputs: Tensor | None,
                     rows: Tensor) -> Tensor:
        """Per-instance weighted sums of gradients at ``m`` points: (k, n_labels, *shape).

        ``fill()`` returns the points (m, *shape), a new tensor; ``reduce(g)``
        maps their gradients (m, *shape) to the k instances' sums (k, *shape).
        The points enter the model as the output of :class:`_SummedPoints` of a
        zero leaf ``u`` of shape (k, *shape), whose gradient is that sum:
        autograd does the summing, the points need no copy (an in-place op
        downstream changes a non-leaf, which is allowed) and no (m, n_labels,
        ...) gradient tensor is kept.
        """
        leaf = torch.zeros((k, *like.shape[1:]), dtype=like.dtype,
                           device=like.device).requires_grad_(True)
        with torch.enable_grad():
            points = _SummedPoints.apply(leaf, fill, reduce)
        out = self._forward_at(points, inputs)
        self.n_evals += m
        return self._label_grads(out, leaf, rows)

    # -------------------------------------------------------------- chunking
    def chunk_size(self, row: Tensor) -> int:
        """Rows per chunk: ``batch_size``, or what fits the memory budget.

        ``row`` is one model input ``(1, ...)``. The probe runs the model with
        gradients (from the input, or from the layer for layer methods) on 1
        and 2 copies of it and counts the bytes autograd saves for backward;
        the difference is the cost of a row.
        """
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
                if isinstance(t, Tensor):
                    seen[(t.data_ptr(), t.numel())] = t.numel() * t.element_size()
                return t

            inp = row.expand(k, *row.shape[1:]).clone()
            if inp.is_floating_point() and self.method.layer is None:
                inp.requires_grad_(True)
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
                    torch.enable_grad():
                if self.method.layer is None:
                    call_model(self.model, inp)
                else:
                    with capture(self.model, self.method.layer, record=False,
                                 replace=lambda _n, o: o.detach().requires_grad_(True).clone()):
                        call_model(self.model, inp)
            self.n_evals += k
            return sum(seen.values())

        one, two = saved_bytes(1), saved_bytes(2)
        per_row = max(two - one, one // 2, 1) + 4 * row[0].numel() * row.element_size()
        per_row *= 2  # saved tensors + gradients in flight
        self._chunk = int(np.clip(self.method.memory_budget // per_row, 1, 8192))
        self.method._chunk_cache[key] = self._chunk
        return self._chunk


# ---------------------------------------------------------------------- path sums
def _segments(r0: int, r1: int, steps: int) -> list[tuple[int, int, int, int, int]]:
    """Rows ``r0..r1-1`` of an (instance, step) grid as at most 3 rectangles.

    Each is ``(first instance, instances, first step, end step, first row in
    the chunk)``: the head of a partly covered instance, whole instances, the
    tail of one. Path points of a rectangle are one broadcast operation and
    its gradient sums a loop over its steps, without gathers.
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


Fill = Callable[[int, int, list[tuple[int, int, int, int, int]], Tensor], Tensor | None]


def path_sums(run: _Run, n: int, steps: int, like: Tensor, fill: Fill,
              weights: Tensor | None = None, inputs: Tensor | None = None) -> Tensor:
    """``attr[i] = sum_k c_ik * grad f(p_ik)`` over an (instance, step) grid of points.

    Parameters
    ----------
    run : _Run
    n, steps : int
        The grid: rows ``r = i * steps + k`` (instance-major) go through the
        model in chunks.
    like : Tensor of shape (1, *shape)
        Dtype, device and shape of a point (an input, or a layer's activation).
    fill : callable
        ``fill(r0, r1, segments, out)`` writes the points of rows ``r0..r1``
        into ``out`` (r1 - r0, *shape); it returns the rows' factors ``c``
        (r1 - r0, *shape), or None when ``weights`` are the factors.
    weights : Tensor of shape (steps,), optional
        Per-step factors (Integrated Gradients' quadrature weights).
    inputs : Tensor of shape (n, ...), optional
        Layer methods: the model input of each instance.

    Returns
    -------
    Tensor of shape (n, n_labels, *shape)

    Notes
    -----
    The terms of an instance are added one at a time in step order, starting
    from zero (or from the running sum of the instance's earlier steps when a
    chunk starts inside them), each a correctly rounded product and sum: the
    result is the same, to the bit, for any chunk size, as long as the model's
    gradients of a row do not depend on the rows beside it. Autograd does the
    summing (:meth:`_Run.summed_grads`), so no (m, n_labels, ...) gradient
    tensor is kept.
    """
    shape = tuple(like.shape[1:])
    attr = torch.zeros((n, run.n_labels, *shape), dtype=like.dtype, device=like.device)
    total = n * steps
    size = run.chunk_size(like if inputs is None else inputs[:1])
    buf = torch.empty((min(size, total), *shape), dtype=like.dtype, device=like.device)
    for r0 in range(0, total, size):
        r1 = min(r0 + size, total)
        m, lo, hi = r1 - r0, r0 // steps, (r1 - 1) // steps + 1
        segs = _segments(r0, r1, steps)
        factors: list[Tensor | None] = []

        def points(r0: int = r0, r1: int = r1, segs: Any = segs, m: int = m,
                   factors: list[Tensor | None] = factors) -> Tensor:
            factors.append(fill(r0, r1, segs, buf[:m]))
            return buf[:m].detach()  # not a view for autograd: in-place ops may follow

        def reduce(g: Tensor, segs: Any = segs, lo: int = lo, hi: int = hi,
                   factors: list[Tensor | None] = factors) -> Tensor:
            res = torch.empty((hi - lo, *shape), dtype=g.dtype, device=g.device)
            term = torch.empty_like(res)
            for i, cnt, j0, j1, off in segs:
                dst = res[i - lo : i - lo + cnt]
                if j0 == 0:
                    dst.zero_()
                else:  # the instance's earlier steps were in the previous chunk
                    dst.copy_(attr[i : i + cnt, run.label_pos])
                block = g[off : off + cnt * (j1 - j0)].unflatten(0, (cnt, j1 - j0))
                c = factors[0]
                c_block = None if c is None else c[off : off + cnt * (j1 - j0)].unflatten(
                    0, (cnt, j1 - j0))
                for j in range(j0, j1):  # one correctly rounded product and sum per term
                    factor = weights[j] if c_block is None else c_block[:, j - j0]
                    dst.add_(torch.mul(block[:, j - j0], factor, out=term[:cnt]))
            return res

        model_in = None if inputs is None else inputs[torch.arange(
            r0, r1, device=inputs.device) // steps]
        rows = torch.arange(r0, r1, device=run.labels.device) // steps
        attr[lo:hi] = run.summed_grads(points, reduce, m, hi - lo, like, model_in, rows)
        run.progress(r1, total)
    return attr
