"""DeepLIFT (rescale rule) and DeepSHAP, of the input and of a layer's activations."""

from __future__ import annotations

from typing import Any

import numpy as np

import torch
from torch import Tensor
from whylens.errors import InputError, describe
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.torch._attribution import GradientAttribution
from whylens.torch._attribution_args import baseline_rows, pair_index
from whylens.torch._inputs import as_input
from whylens.torch._rules import SOFTMAX_RULES, DeepLiftMode
from whylens.torch._runner import _Run

__all__ = ["DeepLift", "DeepShap", "LayerDeepLift", "LayerDeepShap"]


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
    batch_size, memory_budget, internal_batch_size
        As :class:`GradientAttribution` (a row is an input-reference pair).
    """

    name = "deeplift"
    _captum_positional = ("baselines", "target", "additional_forward_args",
                          "return_convergence_delta", "custom_attribution_func")
    _captum_delta = True

    def __init__(self, model: Any, *, softmax: str = "captum", batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        super().__init__(model, batch_size=batch_size, memory_budget=memory_budget,
                         internal_batch_size=internal_batch_size)
        self._configure(softmax)

    def _configure(self, softmax: str) -> None:
        if softmax not in SOFTMAX_RULES:
            raise InputError(describe("softmax", f"one of {list(SOFTMAX_RULES)}", softmax,
                                      "'centered' keeps summation-to-delta exact."))
        self.softmax = softmax

    def _params(self) -> dict[str, Any]:
        return {"softmax": self.softmax}

    def _pairs(self, run: _Run, b: Tensor, rows_i: Tensor, rows_j: Tensor, weights: Tensor,
               a_x: Tensor | None = None, a_b: Tensor | None = None) -> Tensor:
        """``attr[i] += w (x_i - b_j) * m(x_i, b_j)`` over pairs (i, j), in pair order.

        Layer methods pass the layer's activations at ``x`` and at ``b``
        (``a_x``, ``a_b``): the differences and multipliers are those of the
        activations, and the model runs on ``[x_i; b_j]``. Each pair's term is
        added to its instance's sum in order, so the values do not depend on
        the chunking.
        """
        x = run.x
        n = int(x.shape[0])
        ends, starts = (x, b) if a_x is None else (a_x, a_b)
        attr = torch.zeros((n, run.n_labels, *ends.shape[1:]), dtype=ends.dtype,
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
                rows = torch.cat([rows_i[sl], rows_i[sl]])  # a pair's rows share its labels
                if a_x is None:
                    g = run.grads(torch.cat([ei, sj]), rows=rows)[:m]
                else:
                    g = run.grads(torch.cat([ei, sj]),
                                  torch.cat([x[rows_i[sl]], b[rows_j[sl]]]), rows=rows)[:m]
                attr.index_add_(0, rows_i[sl], g * (weights[sl].view(view) * (ei - sj))[:, None])
                run.progress(min(start + size, total), total)
        finally:
            run.mode_factory = None
        return attr

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        x = run.x
        n = int(x.shape[0])
        b = baseline_rows(baselines, x)
        rows_j = pair_index(b, n)
        rows_i = torch.arange(n, device=x.device)
        weights = torch.ones(n, dtype=torch.float64)
        values, f_b = self._pair_values(run, b, rows_i, rows_j, weights)
        return {"values": values, "base_values": f_b[rows_j].gather(1, run.labels)}

    def _pair_values(self, run: _Run, b: Tensor, rows_i: Tensor, rows_j: Tensor,
                     weights: Tensor) -> tuple[Tensor, Tensor]:
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
    batch_size, memory_budget, internal_batch_size
        As :class:`GradientAttribution`.

    Examples
    --------
    >>> explainer = DeepShap(model, background=X_train[:100])  # doctest: +SKIP
    >>> exp = explainer(X_test[:5])                            # doctest: +SKIP
    >>> sv = explainer.shap_values(X_test[:5])                 # shap's layout  # doctest: +SKIP
    """

    name = "deepshap"

    def __init__(self, model: Any, background: Any = None, *, softmax: str = "captum",
                 batch_size: int | None = None, memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        GradientAttribution.__init__(self, model, batch_size=batch_size,
                                     memory_budget=memory_budget,
                                     internal_batch_size=internal_batch_size)
        self._configure(softmax)
        self.background = background
        self._expected: np.ndarray | None = None

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        x = run.x
        n = int(x.shape[0])
        b = baseline_rows(self.background if baselines is None else baselines, x,
                           argument="background" if baselines is None else "baselines",
                           per_instance=False)
        k = int(b.shape[0])
        rows_i = torch.arange(n, device=x.device).repeat_interleave(k)
        rows_j = torch.arange(k, device=x.device).repeat(n)
        weights = torch.full((n * k,), 1.0 / k, dtype=torch.float64)
        values, f_b = self._pair_values(run, b, rows_i, rows_j, weights)
        mean = f_b.mean(dim=0)
        self._expected = mean.detach().to("cpu", torch.float64).numpy()
        return {"values": values, "base_values": mean[run.labels], "params": {"n_background": k}}

    @property
    def expected_value(self) -> Any:
        """Mean model output over the background, per output (a float for one output).

        Computed by the first call (as shap's DeepExplainer computes it at
        construction); ``None`` before.
        """
        if self._expected is None:
            return None
        return float(self._expected[0]) if self._expected.shape[0] == 1 else self._expected

    def shap_values(self, X: Any, target: Any = None, *, labels: Any = None) -> np.ndarray:
        """SHAP values in shap's layout.

        Parameters
        ----------
        X : Tensor of shape (n, ...)
        target, labels : optional
            As the call; both None: every output (shap's DeepExplainer).

        Returns
        -------
        ndarray
            ``(n, *x.shape[1:])`` for one label, else ``(n, *x.shape[1:],
            n_labels)``.
        """
        if target is None and labels is None:
            target = "all"
        return self(as_input(X), target=target, labels=labels).shap_values


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
    softmax, batch_size, memory_budget, internal_batch_size
        As :class:`DeepLift`.

    Notes
    -----
    Baselines are *inputs* (default zeros); their activations at the layer
    are the reference. ``values`` has shape ``(n, n_labels,
    *layer_output.shape[1:])``.
    """

    name = "layerdeeplift"
    _captum_positional = ("baselines", "target", "additional_forward_args",
                          "return_convergence_delta", "attribute_to_layer_input",
                          "custom_attribution_func")
    is_layer_method = True

    def __init__(self, model: Any, layer: Any, *, softmax: str = "captum",
                 batch_size: int | None = None, memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        GradientAttribution.__init__(self, model, layer, batch_size=batch_size,
                                     memory_budget=memory_budget,
                                     internal_batch_size=internal_batch_size)
        self._configure(softmax)


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
    softmax, batch_size, memory_budget, internal_batch_size
        As :class:`DeepLift`.
    """

    name = "layerdeepshap"
    _captum_positional = ("baselines", "target", "additional_forward_args",
                          "return_convergence_delta", "attribute_to_layer_input",
                          "custom_attribution_func")
    is_layer_method = True

    def __init__(self, model: Any, layer: Any, background: Any = None, *,
                 softmax: str = "captum", batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        GradientAttribution.__init__(self, model, layer, batch_size=batch_size,
                                     memory_budget=memory_budget,
                                     internal_batch_size=internal_batch_size)
        self._configure(softmax)
        self.background = background
        self._expected = None
