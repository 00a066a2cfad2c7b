"""Tiny torch models with known answers, shared by the torch tests.

Each docstring gives the formula the tests rely on.
"""

from __future__ import annotations

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
