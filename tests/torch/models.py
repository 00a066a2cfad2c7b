"""Tiny torch models with known answers, shared by the torch tests.

Each docstring gives the formula the tests rely on.
"""

from __future__ import annotations

import torch.nn.functional as F

import torch
from torch import nn


class HandConv(nn.Module):
    """4×4 one-channel input -> Conv2d(1, 2, 2, stride=2, no bias) -> GAP -> Linear(2, 1).

    Channel 0's kernel is all ones, channel 1's is [[1, 0], [0, -1]]; the head
    is ``y = 2 * mean(A0) - mean(A1)``. On ``arange(16)``: A0 = [[10, 18], [42, 50]],
    A1 = -5 everywhere, y = 65, dy/dA0 = 0.5 and dy/dA1 = -0.25 at every position.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 2, stride=2, bias=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 1, bias=False)
        with torch.no_grad():
            self.conv.weight[0] = 1.0
            self.conv.weight[1] = torch.tensor([[1.0, 0.0], [0.0, -1.0]])
            self.fc.weight[:] = torch.tensor([[2.0, -1.0]])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.conv(x)).flatten(1))


class GapNet(nn.Module):
    """conv -> ReLU(inplace) -> conv -> ReLU -> GAP -> Linear: CAM = W[c] · A (Zhou et al.)."""

    def __init__(self, in_ch: int = 3, width: int = 6, n_classes: int = 4) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_ch, width, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1, stride=2), nn.ReLU(inplace=True),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))


class FlatNet(nn.Module):
    """conv -> ReLU(inplace) -> flatten -> Linear: gradients differ per position."""

    def __init__(self, size: int = 8, n_classes: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU(inplace=True)
        self.fc = nn.Linear(4 * size * size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.act(self.conv(x)).flatten(1))


class RegionNet(nn.Module):
    """Reads only the red channel of the top-left quarter.

    A 1×1 conv makes channel 0 = red and channel 1 = green; logit 1 is the
    mean of channel 0 over the top-left quarter, logit 0 is 0. An image with
    a red patch top-left and an equally bright green patch bottom-right is
    class 1 because of the red patch only.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[0, 0] = 1.0
            self.conv.weight[1, 1] = 1.0
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.act(self.conv(x))
        h, w = a.shape[-2] // 2, a.shape[-1] // 2
        s = a[:, 0, :h, :w].mean(dim=(1, 2))
        return torch.stack([torch.zeros_like(s), s], dim=1)


class SharedBlock(nn.Module):
    """The same conv applied twice (``block(block(x))``), then GAP + Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Conv2d(3, 3, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.block(torch.relu(self.block(x)))).flatten(1))


class TextCNN(nn.Module):
    """Embedding -> Conv1d -> ReLU -> max over time -> Linear (a 1-D text CNN)."""

    def __init__(self, vocab: int = 20, dim: int = 5, channels: int = 4, n_classes: int = 2
                 ) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, channels, 3, padding=1)
        self.fc = nn.Linear(channels, n_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(self.emb(ids).transpose(1, 2)))
        return self.fc(h.amax(dim=2))


class Raises(nn.Module):
    """Wraps a model and raises in forward after its first conv ran."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inner.features[0](x)
        raise RuntimeError("boom")


def seeded(model: nn.Module, seed: int = 0) -> nn.Module:
    """Re-initialise ``model``'s parameters from ``seed`` (float64)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.5)
    return model.double()


# ---------------------------------------------------------------- gradient attributions
class LinearNet(nn.Module):
    """``f(x) = x @ W.T + b`` with W = [[1, -2, 3, 0.5], [-1, 0, 2, 4]], b = [0.3, -0.7].

    Known answers: Saliency = W[label], IG = (x - x') * W[label] at any number
    of steps, DeepLIFT likewise, Input×Gradient sums to f(x) - b.
    """

    def __init__(self, bias: bool = True) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2, bias=bias)
        with torch.no_grad():
            self.fc.weight[:] = torch.tensor([[1.0, -2.0, 3.0, 0.5], [-1.0, 0.0, 2.0, 4.0]])
            if bias:
                self.fc.bias[:] = torch.tensor([0.3, -0.7])
        self.double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class ReluMLP(nn.Module):
    """Linear -> ReLU(inplace) -> Linear -> ReLU -> Linear: piecewise linear, so
    DeepLIFT's rescale rule sums exactly to f(x) - f(x')."""

    def __init__(self, d: int = 5, h: int = 7, k: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, h), nn.ReLU(inplace=True), nn.Linear(h, h),
                                 nn.ReLU(), nn.Linear(h, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmoothMLP(nn.Module):
    """Linear -> tanh -> Linear -> sigmoid -> Linear: smooth, so IG's quadrature error
    falls with the number of steps."""

    def __init__(self, d: int = 4, h: int = 6, k: int = 2) -> None:
        super().__init__()
        self.a = nn.Linear(d, h)
        self.b = nn.Linear(h, h)
        self.c = nn.Linear(h, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(torch.sigmoid(self.b(torch.tanh(self.a(x)))))


class ReusedRelu(nn.Module):
    """One ReLU module called twice plus a functional ``torch.relu``: DeepLIFT must
    rescale at every call (a module backward hook would see one)."""

    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Linear(4, 6)
        self.l2 = nn.Linear(6, 6)
        self.l3 = nn.Linear(6, 2)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.l1(x))
        h = self.act(self.l2(h))
        return self.l3(torch.relu(h - 0.1))


class SmallCNN(nn.Module):
    """Conv -> ReLU -> Conv -> ReLU -> flatten -> Linear, nn.ReLU modules only (no
    pooling), the case where captum and whylens must agree for every method."""

    def __init__(self, size: int = 6, n_classes: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(3, 3, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(3 * size * size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))


class OneTokenCNN(nn.Module):
    """Token ids -> Embedding -> Conv1d(k=1) -> ReLU -> sum over time -> 2 logits.

    The embedding of ``token`` is e_0, every other id embeds to 0, and the
    1×1 conv reads coordinate 0: channel 0 is 1 exactly at positions holding
    ``token``; logit 1 counts them, logit 0 is 0. Grad-CAM of logit 1 at
    ``conv`` peaks at those positions.
    """

    def __init__(self, vocab: int = 10, token: int = 7, dim: int = 3) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, 2, 1, bias=False)
        self.head = nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.emb.weight.zero_()
            self.emb.weight[token, 0] = 1.0
            self.conv.weight.zero_()
            self.conv.weight[0, 0, 0] = 1.0
            self.head.weight.zero_()
            self.head.weight[1, 0] = 1.0
        self.double()

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(self.emb(ids).transpose(1, 2)))
        return self.head(h.sum(dim=2))


class ValidConvText(nn.Module):
    """Token ids -> Embedding -> unpadded Conv1d -> ReLU -> sum over time -> 2 logits.

    As :class:`OneTokenCNN`, but the conv has ``kernel`` taps, ``dilation`` and
    no padding, so its map is ``dilation * (kernel - 1)`` shorter than the
    sequence. Channel 0 reads coordinate 0 of the embedding at the centre tap
    (index ``kernel // 2``): it is 1 at layer position ``j`` exactly when input
    ``j + dilation * (kernel // 2)`` holds ``token``; logit 1 counts those.
    Grad-CAM of logit 1 at ``conv``: ``count / L_layer`` at those positions, 0
    elsewhere (channel 1 is all zero).
    """

    def __init__(self, vocab: int = 10, token: int = 7, dim: int = 3, kernel: int = 3,
                 dilation: int = 1) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, 2, kernel, dilation=dilation, bias=False)
        self.head = nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.emb.weight.zero_()
            self.emb.weight[token, 0] = 1.0
            self.conv.weight.zero_()
            self.conv.weight[0, 0, kernel // 2] = 1.0
            self.head.weight.zero_()
            self.head.weight[1, 0] = 1.0
        self.double()

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(self.emb(ids).transpose(1, 2)))
        return self.head(h.sum(dim=2))


class PoolCNN(nn.Module):
    """Conv -> ReLU -> Conv -> MaxPool2d(2) -> flatten -> Linear -> ReLU -> Linear.

    No two of captum's hooked modules touch (its hooks on a shared tensor pass
    the second module's plain gradient to the first rule), so captum's
    DeepLift and whylens' must agree; both keep summation-to-delta.
    """

    def __init__(self, size: int = 6, n_classes: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(3, 4, 3, padding=1), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Linear(4 * (size // 2) ** 2, 5), nn.ReLU(),
                                  nn.Linear(5, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class SoftmaxMLP(nn.Module):
    """Linear -> ReLU -> Linear -> Softmax(dim=1) (``log=True``: LogSoftmax)."""

    def __init__(self, d: int = 5, h: int = 7, k: int = 3, log: bool = False) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, k),
                                 nn.LogSoftmax(dim=1) if log else nn.Softmax(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FunctionalPool(nn.Module):
    """Conv{1,2,3}d -> ``torch.relu`` -> ``F.max_pool{1,2,3}d`` (overlapping windows:
    kernel 3, stride 2, padding 1) -> flatten -> Linear -> ``torch.softmax`` or
    ``x.log_softmax``; every nonlinearity a function call, none a module."""

    def __init__(self, dims: int = 2, size: int = 6, log: bool = False) -> None:
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
        self.pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[dims]
        self.conv = conv(2, 3, 3, padding=1)
        self.fc = nn.Linear(3 * ((size + 1) // 2) ** dims, 4)
        self.log = log

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.relu(self.conv(x)), 3, 2, 1).flatten(1)
        z = self.fc(h)
        return z.log_softmax(dim=1) if self.log else torch.softmax(z, 1)
