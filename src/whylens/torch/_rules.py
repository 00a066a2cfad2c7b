"""Modified backward rules for elementwise nonlinearities: DeepLIFT rescale, guided backprop.

DeepLIFT and guided backpropagation differ from the plain gradient only in
how the gradient passes through elementwise nonlinearities (ReLU, sigmoid,
tanh, ...). Rather than module backward hooks (which break on in-place
ReLUs, see pytorch#61519, and miss ``torch.relu`` called in ``forward``), the
rules are applied with a :class:`torch.overrides.TorchFunctionMode` that is
active only during the method's own forward pass: each call of a supported
nonlinearity, as a module (``nn.ReLU(inplace=True)``), a function
(``F.relu``, ``torch.sigmoid``) or a tensor method (``x.relu()``), is
computed out of place through an autograd function whose backward applies
the rule. A module called several times (a shared block) gets the rule at
every call. Nothing is registered on the model, so nothing can be left over.

Known limit: an in-place tensor method whose return value is ignored
(``x.relu_()`` on a line of its own) is computed out of place under the rule,
so the model must use the returned tensor (every ``torch.nn`` module does).
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

import torch

__all__ = ["NONLINEAR", "DeepLiftMode", "GuidedMode"]

_EPS = 1e-10


def _elementwise_functions() -> dict[Any, Any]:
    """Every spelling of the supported nonlinearities -> a plain out-of-place function."""

    def relu(x: Any, *args: Any, **kwargs: Any) -> Any:
        return torch.relu(x)

    def sigmoid(x: Any, *args: Any, **kwargs: Any) -> Any:
        return torch.sigmoid(x)

    def tanh(x: Any, *args: Any, **kwargs: Any) -> Any:
        return torch.tanh(x)

    def elu(x: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
        return F.elu(x, alpha)

    def leaky_relu(x: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
        return F.leaky_relu(x, negative_slope)

    def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        return F.softplus(x, beta, threshold)

    def silu(x: Any, inplace: bool = False) -> Any:
        return F.silu(x)

    def gelu(x: Any, approximate: str = "none") -> Any:
        return F.gelu(x, approximate=approximate)

    table = {
        torch.relu: relu, torch.relu_: relu, F.relu: relu, F.relu_: relu,
        torch.Tensor.relu: relu, torch.Tensor.relu_: relu,
        torch.sigmoid: sigmoid, torch.Tensor.sigmoid: sigmoid, F.sigmoid: sigmoid,
        torch.Tensor.sigmoid_: sigmoid,
        torch.tanh: tanh, torch.Tensor.tanh: tanh, F.tanh: tanh, torch.Tensor.tanh_: tanh,
        F.elu: elu, F.leaky_relu: leaky_relu, F.softplus: softplus, F.silu: silu,
        F.gelu: gelu,
    }
    return table


NONLINEAR = _elementwise_functions()
_RELUS = {k for k, v in NONLINEAR.items() if v is NONLINEAR[torch.relu]}


def _local_grad(fn: Any, inp: Any, grad: Any) -> Any:
    with torch.enable_grad():
        leaf = inp.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(leaf), leaf, grad)
    return g


class _Rescale(torch.autograd.Function):
    """Forward: ``fn(x)``. Backward: DeepLIFT's rescale multiplier.

    The batch holds inputs then their references, ``[x_1..x_m, r_1..r_m]``;
    the multiplier ``(fn(x) - fn(r)) / (x - r)`` replaces ``fn'`` for both
    halves, and where ``|x - r| < 1e-10`` the plain derivative is used.
    """

    @staticmethod
    def forward(ctx: Any, inp: Any, fn: Any) -> Any:  # type: ignore[override]
        out = fn(inp)
        ctx.fn = fn
        ctx.save_for_backward(inp, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:  # type: ignore[override]
        inp, out = ctx.saved_tensors
        local = _local_grad(ctx.fn, inp, grad)
        m = inp.shape[0] // 2
        if inp.shape[0] != 2 * m or m == 0:
            return local, None
        d_in = inp[:m] - inp[m:]
        d_out = out[:m] - out[m:]
        safe = d_in.abs() >= _EPS
        ratio = torch.where(safe, d_out / torch.where(safe, d_in, 1.0), 0.0)
        ratio = torch.cat([ratio, ratio])
        safe = torch.cat([safe, safe])
        return torch.where(safe, grad * ratio, local), None


class _Guided(torch.autograd.Function):
    """ReLU whose backward passes ``relu(grad) * (x > 0)`` (guided backprop)."""

    @staticmethod
    def forward(ctx: Any, inp: Any, deconv: bool) -> Any:  # type: ignore[override]
        ctx.deconv = deconv
        ctx.save_for_backward(inp)
        return torch.relu(inp)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:  # type: ignore[override]
        (inp,) = ctx.saved_tensors
        if ctx.deconv:
            return torch.relu(grad), None
        return torch.relu(grad) * (inp > 0).to(grad.dtype), None


class DeepLiftMode(TorchFunctionMode):
    """Inside this mode every supported nonlinearity back-propagates DeepLIFT multipliers.

    The forward's batch must be ``cat([inputs, references])``.

    Attributes
    ----------
    n_calls : int
        Nonlinearity calls rewritten during the forward (0 means DeepLIFT
        reduces to gradient × (x - reference)).
    """

    def __init__(self) -> None:
        super().__init__()
        self.n_calls = 0

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        kwargs = kwargs or {}
        fn = NONLINEAR.get(func)
        if fn is None or not args or not isinstance(args[0], torch.Tensor):
            return func(*args, **kwargs)
        self.n_calls += 1
        rest, kw = args[1:], kwargs
        return _Rescale.apply(args[0], lambda t: fn(t, *rest, **kw))


class GuidedMode(TorchFunctionMode):
    """Inside this mode every ReLU back-propagates guided (or deconvolution) gradients."""

    def __init__(self, deconv: bool = False) -> None:
        super().__init__()
        self.deconv = deconv
        self.n_calls = 0

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        kwargs = kwargs or {}
        if func in _RELUS and args and isinstance(args[0], torch.Tensor):
            self.n_calls += 1
            return _Guided.apply(args[0], self.deconv)
        return func(*args, **kwargs)
