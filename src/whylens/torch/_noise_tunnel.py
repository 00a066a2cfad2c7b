"""NoiseTunnel (SmoothGrad, SmoothGrad², VarGrad) over any gradient attribution."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from whylens._validation import check_positive_int, check_random_state, random_state_param
from whylens.errors import InputError, InputTypeError, describe
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.torch._attribution import GradientAttribution
from whylens.torch._attribution_args import baseline_rows, check_float
from whylens.torch._runner import _Run
from whylens.torch._saliency import Saliency

__all__ = ["NoiseTunnel", "SmoothGrad"]


class NoiseTunnel(GradientAttribution):
    """Average another attribution over noisy copies of the input (SmoothGrad and kin).

    Noisy inputs are made and attributed a chunk at a time and only running
    sums are kept, so memory does not grow with ``nt_samples``; each noisy row
    has its own seeded draw and the sums are taken in row order, so the result
    does not depend on the chunking. Over a layer method
    (``NoiseTunnel(LayerIntegratedGradients(model, layer))``, as captum's) the
    noise is added to the model's input and the values are the layer's
    attributions; the input must be floating point.

    Parameters
    ----------
    method : GradientAttribution
        An input or layer attribution (``Saliency(model)``,
        ``IntegratedGradients(model)``, ``LayerIntegratedGradients(model,
        layer)``...); its ``batch_size`` and ``memory_budget`` size the chunks.
    nt_type : {"smoothgrad", "smoothgrad_sq", "vargrad"}, default="smoothgrad"
        Mean, mean of squares, or variance of the attributions.
    nt_samples : int, default=5
    stdevs : float, default=1.0
        Standard deviation of the Gaussian noise, in input units (as captum;
        SmoothGrad's paper uses 10-20% of the input's range).
    random_state : int or numpy.random.Generator, optional
        The same int gives bit-identical values on every call.
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
        super().__init__(method.model, method.layer, batch_size=method.batch_size,
                         memory_budget=method.memory_budget)
        if nt_type not in self.NT_TYPES:
            raise InputError(describe("nt_type", f"one of {list(self.NT_TYPES)}", nt_type))
        self.inner = method
        self.nt_type = nt_type
        self.nt_samples = check_positive_int("nt_samples", nt_samples)
        self.stdevs = check_float("stdevs", stdevs)
        check_random_state(random_state)
        self.random_state = random_state

    def __repr__(self) -> str:
        return f"NoiseTunnel({self.inner!r}, nt_type={self.nt_type!r})"

    # captum's NoiseTunnel.attribute(inputs, nt_type, nt_samples, nt_samples_batch_size,
    # stdevs, draw_baseline_from_distrib, **kwargs of the inner method)
    _captum_positional = ("nt_type", "nt_samples", "nt_samples_batch_size", "stdevs",
                          "draw_baseline_from_distrib")
    _captum_options = ("nt_type", "nt_samples", "stdevs")

    def _captum_accepted(self) -> set[str]:
        return (super()._captum_accepted() | self.inner._captum_accepted()
                | {"return_convergence_delta"})

    def _call_options(self, opts: dict[str, Any]) -> dict[str, Any]:
        """Own options (``nt_samples_batch_size`` is the chunk's rows); the rest go inside."""
        from whylens.torch._peer import check_captum_flag

        own = {k: opts.pop(k) for k in self._captum_options if k in opts}
        check_captum_flag("draw_baseline_from_distrib",
                          opts.pop("draw_baseline_from_distrib", False), False)
        size = opts.pop("nt_samples_batch_size", None)
        if size is not None:
            own["batch_size"] = check_positive_int("nt_samples_batch_size", size)
        if opts:
            own["inner"] = self.inner._replaced(self.inner._call_options(opts))
        return own

    def _reconfigure(self) -> None:
        if self.nt_type not in self.NT_TYPES:
            raise InputError(describe("nt_type", f"one of {list(self.NT_TYPES)}", self.nt_type))
        self.nt_samples = check_positive_int("nt_samples", self.nt_samples)
        self.stdevs = check_float("stdevs", self.stdevs)

    def _params(self) -> dict[str, Any]:
        return {"inner": self.inner.name, **self.inner._params(), "nt_type": self.nt_type,
                "nt_samples": self.nt_samples, "stdevs": self.stdevs,
                "random_state": random_state_param(self.random_state)}

    def _noise(self, seed: int, rows: list[int], shape: tuple[int, ...], dtype: Any) -> Tensor:
        """Noise of the given flat sample rows; row ``r`` always gets the same draw.

        Each row has its own generator seeded from ``(seed, r)``, so the noise,
        and the attributions, do not depend on how rows are chunked.
        """
        out = torch.empty((len(rows), *shape), dtype=dtype)
        gen = torch.Generator()
        for k, r in enumerate(rows):
            gen.manual_seed((seed * 1_000_003 + int(r)) % (2**63 - 1))
            torch.randn(shape, generator=gen, dtype=dtype, out=out[k])
        return out

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
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
        b = None if baselines is None else baseline_rows(baselines, x)
        # Noisy inputs are made and attributed a group at a time (as many rows
        # as a chunk), and only the running sums are kept: memory does not grow
        # with nt_samples.
        group = max(run.chunk_size(x[:1]), 1)
        total = n * s
        first = second = None
        for start in range(0, total, group):
            rows = torch.arange(start, min(start + group, total))
            inst = (rows // s).to(x.device)
            noisy = x[inst]
            noise = self._noise(seed, rows.tolist(), tuple(x.shape[1:]), x.dtype)
            noisy.add_(noise.to(x.device), alpha=self.stdevs)
            inner_run = _Run(self.inner, noisy, None)
            inner_run.labels = run.labels[inst]
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
    nt_type, random_state, batch_size, memory_budget, internal_batch_size
        As :class:`NoiseTunnel` and :class:`GradientAttribution`.
    """

    name = "smoothgrad"

    def __init__(self, model: Any, *, nt_samples: int = 50, stdevs: float = 0.15,
                 abs: bool = False, nt_type: str = "smoothgrad", random_state: Any = None,
                 batch_size: int | None = None, memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        super().__init__(Saliency(model, abs=abs, batch_size=batch_size,
                                  memory_budget=memory_budget,
                                  internal_batch_size=internal_batch_size),
                         nt_type=nt_type, nt_samples=nt_samples, stdevs=stdevs,
                         random_state=random_state)
