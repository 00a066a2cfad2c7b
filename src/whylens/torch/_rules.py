"""Modified backward rules for nonlinearities: DeepLIFT rescale, guided backprop.

DeepLIFT and guided backpropagation differ from the plain gradient only in
how the gradient passes through nonlinearities: elementwise ones (ReLU,
sigmoid, tanh, ...) and, for DeepLIFT, max pooling (1d/2d/3d) and softmax /
log-softmax, with captum's rules (:class:`_MaxPool`, :class:`_Softmax`).
Rather than module backward hooks (which break on in-place ReLUs, see
pytorch#61519, and miss ``torch.relu`` called in ``forward``), the rules are
applied with a :class:`torch.overrides.TorchFunctionMode` that is
active only during the method's own forward pass: each call of a supported
nonlinearity, as a module (``nn.ReLU(inplace=True)``), a function
(``F.relu``, ``torch.sigmoid``) or a tensor method (``x.relu()``), is
computed out of place through an autograd function whose backward applies
the rule. A module called several times (a shared block) gets the rule at
every call. Nothing is registered on the model, so nothing can be left over.

Max pooling called with ``return_indices=True`` and softmax with a ``dtype``
pass plain gradients.

Known limit: an in-place tensor method whose return value is ignored
(``x.relu_()`` on a line of its own) is computed out of place under the rule,
so the model must use the returned tensor (every ``torch.nn`` module does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

import torch
from torch import Tensor

__all__ = ["MAXPOOLS", "NONLINEAR", "SOFTMAXES", "SOFTMAX_RULES", "DeepLiftMode", "GuidedMode"]

_EPS = 1e-10


def _elementwise_functions() -> dict[Any, Any]:
    """Every spelling of the supported nonlinearities -> a plain out-of-place function."""

    def relu(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return torch.relu(x)

    def sigmoid(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return torch.sigmoid(x)

    def tanh(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return torch.tanh(x)

    def elu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
        return F.elu(x, alpha)

    def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
        return F.leaky_relu(x, negative_slope)

    def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        return F.softplus(x, beta, threshold)

    def silu(x: Tensor, inplace: bool = False) -> Tensor:
        return F.silu(x)

    def gelu(x: Tensor, approximate: str = "none") -> Tensor:
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


def _local_grad(fn: Callable[[Tensor], Tensor], inp: Tensor, grad: Tensor) -> Tensor:
    """The plain backward of ``fn`` at ``inp``: ``grad`` times ``fn``'s Jacobian."""
    with torch.enable_grad():
        leaf = inp.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(leaf), leaf, grad)
    return g


def _pair_count(inp: Tensor) -> int:
    """m for a batch of inputs then their references ``[x_1..x_m, r_1..r_m]``.

    0 for a batch that cannot be one (empty or odd): the rules then pass the
    plain gradient.
    """
    n = int(inp.shape[0])
    return n // 2 if n % 2 == 0 else 0


def _saved_pairs(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor, int]:
    """A rule's saved input and output, its plain backward and :func:`_pair_count`."""
    inp, out = ctx.saved_tensors
    return inp, out, _local_grad(ctx.fn, inp, grad), _pair_count(inp)


class _SavesInputAndOutput(torch.autograd.Function):
    """Forward ``fn(x)``, keeping ``fn``, ``x`` and the output for a backward rule."""

    @staticmethod
    def forward(ctx: Any, inp: Tensor, fn: Callable[[Tensor], Tensor]  # type: ignore[override]
                ) -> Tensor:
        out = fn(inp)
        ctx.fn = fn
        ctx.save_for_backward(inp, out)
        return out


class _Rescale(_SavesInputAndOutput):
    """Forward: ``fn(x)``. Backward: DeepLIFT's rescale multiplier.

    The batch holds inputs then their references, ``[x_1..x_m, r_1..r_m]``;
    the multiplier ``(fn(x) - fn(r)) / (x - r)`` replaces ``fn'`` for both
    halves, and where ``|x - r| < 1e-10`` the plain derivative is used.
    """

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        inp, out, local, m = _saved_pairs(ctx, grad)
        if not m:
            return local, None
        d_in = inp[:m] - inp[m:]
        d_out = out[:m] - out[m:]
        safe = d_in.abs() >= _EPS
        ratio = torch.where(safe, d_out / torch.where(safe, d_in, 1.0), 0.0)
        ratio = torch.cat([ratio, ratio])
        safe = torch.cat([safe, safe])
        return torch.where(safe, grad * ratio, local), None


def _pool_functions() -> dict[Any, Any]:
    """Every spelling of max pooling (module, function, ``torch.*``) -> its functional form."""
    return {F.max_pool1d: F.max_pool1d, torch.max_pool1d: F.max_pool1d,
            F.max_pool2d: F.max_pool2d, torch.max_pool2d: F.max_pool2d,
            F.max_pool3d: F.max_pool3d, torch.max_pool3d: F.max_pool3d}


def _softmax_functions() -> dict[Any, Any]:
    """Every spelling of softmax / log-softmax -> its functional form."""
    return {F.softmax: F.softmax, torch.softmax: F.softmax, torch.Tensor.softmax: F.softmax,
            F.log_softmax: F.log_softmax, torch.log_softmax: F.log_softmax,
            torch.Tensor.log_softmax: F.log_softmax}


MAXPOOLS = _pool_functions()
SOFTMAXES = _softmax_functions()
#: ``DeepLift(softmax=...)``: how multipliers pass a softmax / log-softmax.
SOFTMAX_RULES = ("captum", "centered")


class _MaxPool(_SavesInputAndOutput):
    """Forward: max pooling. Backward: DeepLIFT's max-pool multiplier (as captum's).

    With ``y = maxpool(x)``, ``y' = maxpool(x')`` and ``t = max(y, y')``, the
    output difference is split as ``(t - y') + (y - t)``: the first part goes
    back to the argmax of ``x`` in each window, the second to the argmax of
    ``x'``; their sum divided by ``x - x'`` is the multiplier (the plain
    gradient where ``|x - x'| < 1e-10``). The pieces sum to ``y - y'``, so
    summation-to-delta holds. Overlapping windows add their shares (captum's
    ``max_unpool`` keeps one of them).
    """

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        inp, out = ctx.saved_tensors
        m = _pair_count(inp)
        pair = m > 0
        with torch.enable_grad():
            leaf = inp.detach().requires_grad_(True)
            pooled = ctx.fn(leaf)
            (local,) = torch.autograd.grad(pooled, leaf, grad, retain_graph=pair)
            if not pair:
                return local, None
            top = torch.maximum(out[:m], out[m:])
            d_out = torch.cat([top - out[m:], out[:m] - top])
            # the backward of max pooling routes each window's value to its argmax
            (spread,) = torch.autograd.grad(pooled, leaf, grad * d_out)
        d_in = inp[:m] - inp[m:]
        safe = d_in.abs() >= _EPS
        ratio = torch.where(safe, (spread[:m] + spread[m:]) / torch.where(safe, d_in, 1.0), 0.0)
        return torch.where(torch.cat([safe, safe]), torch.cat([ratio, ratio]), local), None


class _Softmax(torch.autograd.Function):
    """Forward: softmax or log-softmax. Backward: rescale multipliers, centred.

    ``u = grad * (s(z) - s(z')) / (z - z')`` elementwise (the plain backward
    where ``|z - z'| < 1e-10``), then a mean is subtracted, since adding a
    constant to a softmax's input changes nothing:

    * ``"captum"``: the mean of ``u`` over the input-reference pair (every
      element of both rows), captum's softmax rule for a batch of one
      instance (captum takes the mean over the whole batch, so a row's
      values depend on the other rows). Summation-to-delta is off by
      ``mean(u) * sum(z - z')``.
    * ``"centered"``: ``u`` divides by the centred difference ``(z - z') -
      mean(z - z')`` along ``dim`` and the mean of ``u`` along ``dim`` is
      subtracted; the multipliers then sum exactly to the output difference.
    """

    @staticmethod
    def forward(ctx: Any, inp: Tensor, fn: Callable[..., Tensor], dim: int,  # type: ignore[override]
                rule: str) -> Tensor:
        out = fn(inp)
        ctx.fn, ctx.dim, ctx.rule = fn, dim, rule
        ctx.save_for_backward(inp, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        inp, out, local, m = _saved_pairs(ctx, grad)
        if not m:
            return local, None, None, None
        d_in = inp[:m] - inp[m:]
        if ctx.rule == "centered":
            d_in = d_in - d_in.mean(dim=ctx.dim, keepdim=True)
        d_in = torch.cat([d_in, d_in])
        d_out = out[:m] - out[m:]
        d_out = torch.cat([d_out, d_out])
        safe = d_in.abs() >= _EPS
        u = torch.where(safe, grad * d_out / torch.where(safe, d_in, 1.0), local)
        if ctx.rule == "centered":
            return u - u.mean(dim=ctx.dim, keepdim=True), None, None, None
        per_pair = u.reshape(2, m, -1).mean(dim=(0, 2))
        per_pair = per_pair.repeat(2).reshape((-1,) + (1,) * (u.ndim - 1))
        return u - per_pair, None, None, None


class _Guided(torch.autograd.Function):
    """ReLU whose backward passes ``relu(grad) * (x > 0)`` (guided backprop)."""

    @staticmethod
    def forward(ctx: Any, inp: Tensor, deconv: bool) -> Tensor:  # type: ignore[override]
        ctx.deconv = deconv
        ctx.save_for_backward(inp)
        return torch.relu(inp)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        (inp,) = ctx.saved_tensors
        if ctx.deconv:
            return torch.relu(grad), None
        return torch.relu(grad) * (inp > 0).to(grad.dtype), None


class _RuleMode(TorchFunctionMode):
    """A torch function mode that sends some calls through a rule's autograd function.

    A call whose first argument is a tensor goes to :meth:`_rule`, which
    returns the rule's result or ``NotImplemented`` (then the call runs as
    it is).

    Attributes
    ----------
    n_calls : int
        Calls rewritten during the forward.
    """

    def __init__(self) -> None:
        super().__init__()
        self.n_calls = 0

    def _rule(self, func: Any, x: Tensor, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The rewritten ``func(x, *rest, **kwargs)``, or ``NotImplemented``."""
        raise NotImplementedError

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        kwargs = kwargs or {}
        if args and isinstance(args[0], torch.Tensor):
            out = self._rule(func, args[0], args[1:], kwargs)
            if out is not NotImplemented:
                self.n_calls += 1
                return out
        return func(*args, **kwargs)


class DeepLiftMode(_RuleMode):
    """Inside this mode every supported nonlinearity back-propagates DeepLIFT multipliers.

    The forward's batch must be ``cat([inputs, references])``.

    Attributes
    ----------
    n_calls : int
        Nonlinearity calls rewritten during the forward (0 means DeepLIFT
        reduces to gradient × (x - reference)).
    """

    def __init__(self, softmax: str = "captum") -> None:
        super().__init__()
        self.softmax = softmax

    def _rule(self, func: Any, x: Tensor, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        fn = NONLINEAR.get(func)
        if fn is not None:
            return _Rescale.apply(x, lambda t: fn(t, *rest, **kwargs))
        pool = MAXPOOLS.get(func)
        if pool is not None and not _returns_indices(rest, kwargs):
            return _MaxPool.apply(x, lambda t: pool(t, *rest, **kwargs))
        soft = SOFTMAXES.get(func)
        if soft is not None:
            dim = kwargs.get("dim", rest[0] if rest else None)
            dtype = kwargs.get("dtype") or next(
                (a for a in rest if isinstance(a, torch.dtype)), None)
            if isinstance(dim, int) and dtype is None:
                return _Softmax.apply(x, lambda t: soft(t, dim), dim, self.softmax)
        return NotImplemented


def _returns_indices(rest: Any, kwargs: dict[str, Any]) -> bool:
    """``return_indices`` of a max-pool call (7th positional argument or keyword)."""
    if "return_indices" in kwargs:
        return bool(kwargs["return_indices"])
    return len(rest) >= 6 and bool(rest[5])


class GuidedMode(_RuleMode):
    """Inside this mode every ReLU back-propagates guided (or deconvolution) gradients."""

    def __init__(self, deconv: bool = False) -> None:
        super().__init__()
        self.deconv = deconv

    def _rule(self, func: Any, x: Tensor, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return _Guided.apply(x, self.deconv) if func in _RELUS else NotImplemented
