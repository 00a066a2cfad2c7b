"""Integrated Gradients of the input and of a layer's activations, and their quadrature."""

from __future__ import annotations

from typing import Any

import numpy as np

import torch
from torch import Tensor
from whylens._validation import check_positive_int
from whylens.errors import InputError, describe
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.torch._attribution import GradientAttribution
from whylens.torch._attribution_args import baseline_rows, pair_index
from whylens.torch._runner import _Run, path_sums

__all__ = ["INTEGRATION_METHODS", "IntegratedGradients", "LayerIntegratedGradients",
           "path_weights"]

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

    Raises
    ------
    InputError
        An unknown method, or too few steps.
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
    batch_size, memory_budget, internal_batch_size
        As :class:`GradientAttribution`: the ``n * n_steps`` rows go through the
        model in chunks, so memory stays bounded at any ``n_steps``; the
        values do not depend on the chunk size.

    Examples
    --------
    >>> exp = IntegratedGradients(model, n_steps=64)(x, target=1)  # doctest: +SKIP
    >>> exp.delta  # sum(values) - (f(x) - f(0)), per instance  # doctest: +SKIP
    """

    name = "integratedgradients"
    _captum_positional = ("baselines", "target", "additional_forward_args", "n_steps", "method",
                          "internal_batch_size", "return_convergence_delta")
    _captum_options = ("n_steps", "method")
    _captum_delta = True

    def _reconfigure(self) -> None:
        self._configure(self.n_steps, self.method)

    def __init__(self, model: Any, *, n_steps: int = 50, method: str = "gausslegendre",
                 batch_size: int | None = None, memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        super().__init__(model, batch_size=batch_size, memory_budget=memory_budget,
                         internal_batch_size=internal_batch_size)
        self._configure(n_steps, method)

    def _configure(self, n_steps: int, method: str) -> None:
        self.alphas, self.weights = path_weights(n_steps, method)
        self.n_steps = int(n_steps)
        self.method = method

    def _params(self) -> dict[str, Any]:
        return {"n_steps": self.n_steps, "method": self.method}

    def _ig_path(self, run: _Run, starts: Tensor, ends: Tensor,
                 inputs: Tensor | None = None) -> Tensor:
        """``(e_i - s_i) * sum_k w_k grad f(s_i + a_k (e_i - s_i))`` per instance i.

        Parameters
        ----------
        starts : Tensor of shape (1 or n, *shape)
            Path starts (baselines, or their layer activations).
        ends : Tensor of shape (n, *shape)
        inputs : Tensor of shape (n, ...), optional
            As in :func:`~whylens.torch._runner.path_sums`.

        Returns
        -------
        Tensor of shape (n, n_labels, *shape)
            The attributions of each instance and label.

        Notes
        -----
        The ``n * n_steps`` rows (instance-major) go through the model in
        chunks (:func:`~whylens.torch._runner.path_sums`); a chunk's rows
        are at most three rectangles of the (instance, step) grid, so its
        points are broadcast ``addcmul`` into one buffer reused by every chunk,
        with no gathered starts or differences; ``e - s`` multiplies the
        weighted gradient sums once at the end.
        """
        n, steps = int(ends.shape[0]), self.n_steps
        shape = tuple(ends.shape[1:])
        alphas = torch.as_tensor(self.alphas, dtype=ends.dtype, device=ends.device)
        weights = torch.as_tensor(self.weights, dtype=ends.dtype, device=ends.device)
        diffs = ends - starts
        one_start = int(starts.shape[0]) == 1
        ones = (1,) * len(shape)

        def fill(r0: int, r1: int, segs: Any, out: Tensor) -> None:
            for i, cnt, j0, j1, off in segs:
                block = out[off : off + cnt * (j1 - j0)].view(cnt, j1 - j0, *shape)
                s = starts[:1] if one_start else starts[i : i + cnt]
                torch.addcmul(s[:, None], alphas[j0:j1].view(1, -1, *ones),
                              diffs[i : i + cnt, None], out=block)

        attr = path_sums(run, n, steps, ends[:1], fill, weights=weights, inputs=inputs)
        return attr.mul_(diffs[:, None])

    def _references(self, baselines: Any, x: Tensor) -> Tensor:
        return baseline_rows(baselines, x)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        x = run.x
        n = int(x.shape[0])
        if run.refs is None:  # inside a NoiseTunnel
            b = baseline_rows(baselines, x)
            f_b = None
        else:
            b, f_b = run.refs, run.ref_output
        values = self._ig_path(run, b, x)
        if f_b is None:
            f_b = run.forward(b)
        return {"values": values, "base_values": f_b[pair_index(b, n)].gather(1, run.labels)}


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
    n_steps, method, batch_size, memory_budget, internal_batch_size
        As :class:`IntegratedGradients`.

    Notes
    -----
    Baselines are *inputs* (default zeros: token id 0, usually padding); their
    layer activations start the path. ``values`` has shape
    ``(n, n_labels, *layer_output.shape[1:])``; ``delta`` is the completeness
    gap ``sum(values) - (f(x) - f(baseline))``.
    """

    name = "layerintegratedgradients"
    _captum_positional = ("baselines", "target", "additional_forward_args", "n_steps", "method",
                          "internal_batch_size", "return_convergence_delta",
                          "attribute_to_layer_input")
    is_layer_method = True

    def __init__(self, model: Any, layer: Any, *, n_steps: int = 50,
                 method: str = "gausslegendre", batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        GradientAttribution.__init__(self, model, layer, batch_size=batch_size,
                                     memory_budget=memory_budget,
                                     internal_batch_size=internal_batch_size)
        self._configure(n_steps, method)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        x = run.x
        n = int(x.shape[0])
        if run.refs is None:  # inside a NoiseTunnel
            b = baseline_rows(baselines, x)
            a_b, f_b = run.layer_activations(b)
        else:
            b, a_b, f_b = run.refs, run.layer_refs, run.ref_output
        values = self._ig_path(run, a_b, run.layer_x, inputs=x)
        return {"values": values, "base_values": f_b[pair_index(b, n)].gather(1, run.labels)}
