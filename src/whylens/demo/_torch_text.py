"""The PyTorch text part of ``whylens demo``: seed 002's network in English.

A small embedding -> parallel Conv1d (kernel 1, 2, 3; 'same' padding) ->
average pooling -> BiGRU -> sigmoid network learns the sentiment of the
bundled Rotten Tomatoes snippets (two epochs of Adam, on a CPU). Each explained
review gets, per word of the original string:

- Grad-CAM at the kernel-1 Conv1d layer (where the network looked),
- Integrated Gradients on the embedding against an all-padding review
  (signed; sums to p(review) - p(padding) up to the reported delta),
- LIME over the same words through the model's own tokenizer and vocabulary

as three bar charts side by side, with the IG and Grad-CAM highlights on the
page. Needs torch (``pip install "whylens[torch]"``); nothing is downloaded.
"""

from __future__ import annotations

import collections
import dataclasses
import html
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from whylens.demo._data import rotten_tomatoes_path, rotten_tomatoes_split
from whylens.demo._report import (
    DemoContext,
    SectionResult,
    instance_result,
    long_documents,
    save_figure,
)
from whylens.errors import MissingDependencyError, describe

__all__ = ["TorchTextConfig", "check_torch_text_demo", "review_net", "torch_text_section"]


@dataclass(frozen=True)
class TorchTextConfig:
    """Sizes of the torch text section (the defaults are the full demo).

    Attributes
    ----------
    vocab_size, embedding_dim, gru_dim : int
    epochs : int
    lime_samples : int
        LIME samples per review (capped by the demo's ``num_samples``).
    ig_steps : int
    layer : str
        The Conv1d layer Grad-CAM explains.
    max_train : int, optional
        Train on the first ``max_train`` training reviews only (tests).
    """

    vocab_size: int = 5000
    embedding_dim: int = 32
    gru_dim: int = 12
    epochs: int = 2
    lime_samples: int = 1000
    ig_steps: int = 32
    layer: str = "conv1"
    max_train: int | None = None


def check_torch_text_demo() -> None:
    """Raise :class:`MissingDependencyError` if torch is not installed."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise MissingDependencyError(
            describe("torch text demo", "torch installed", got_text="no module named 'torch'",
                     fix='Install it with: pip install "whylens[torch]".')
        )
    rotten_tomatoes_path()


def review_vocabulary(documents: Sequence[str], vocab_size: int) -> Any:
    """The review network's token ids: the ``vocab_size`` most frequent lower-cased words.

    Returns
    -------
    TokenIdRepresentation
        Ids 0 (padding) and 1 (unknown) first; documents padded or cut to the
        median training length plus 10.
    """
    from whylens.representations import TokenIdRepresentation
    from whylens.text import word_tokenize

    counts = collections.Counter(t.text.lower() for doc in documents for t in word_tokenize(doc))
    vocab = {"<pad>": 0, "<unk>": 1}
    for word, _ in counts.most_common(vocab_size):
        vocab[word] = len(vocab)
    lengths = [len(word_tokenize(d)) for d in documents]
    return TokenIdRepresentation(vocab, tokenizer="word", max_len=int(np.median(lengths)) + 10,
                                 pad_id=0, unk_id=1, lowercase=True)


def review_net(vocab_size: int, embedding_dim: int = 32, gru_dim: int = 12, pad_id: int = 0
               ) -> Any:
    """Seed 002's network: embedding -> Conv1d(k=1, 2, 3) -> avg pool -> BiGRU -> sigmoid.

    Returns
    -------
    torch.nn.Module
        Takes ``(n, L)`` token ids, returns ``(n, 1)`` p(positive).
    """
    import torch
    from torch import nn

    class ReviewNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            d = embedding_dim
            self.embedding = nn.Embedding(vocab_size, d, padding_idx=pad_id)
            self.conv1 = nn.Conv1d(d, 32, 1, padding="same")
            self.conv2 = nn.Conv1d(d, 16, 2, padding="same")
            self.conv3 = nn.Conv1d(d, 8, 3, padding="same")
            self.pool = nn.AvgPool1d(2)
            self.dropout = nn.Dropout(0.2)
            self.gru = nn.GRU(56, gru_dim, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * gru_dim, 1)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            e = self.embedding(ids).transpose(1, 2)
            h = torch.cat([self.pool(self.conv1(e)), self.pool(self.conv2(e)),
                           self.pool(self.conv3(e))], dim=1)
            _, last = self.gru(self.dropout(h.transpose(1, 2)))
            return torch.sigmoid(self.out(self.dropout(torch.cat([last[0], last[1]], dim=1))))

    return ReviewNet()


def _train(model: Any, ids: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = torch.nn.BCELoss()
    X = torch.as_tensor(ids)
    Y = torch.as_tensor(y, dtype=torch.float32)[:, None]
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=gen)
        for start in range(0, len(X), 64):
            batch = order[start : start + 64]
            opt.zero_grad()
            loss_fn(model(X[batch]), Y[batch]).backward()
            opt.step()
    model.eval()


def _panels(title: str, names: list[str], panels: dict[str, np.ndarray], path: Path) -> None:
    from matplotlib.figure import Figure

    from whylens.plot._fonts import text_families

    families = text_families()
    fig = Figure(figsize=(3.6 * len(panels), 1.0 + 0.3 * len(names)), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True)
    pos = np.arange(len(names))[::-1]
    for ax, (name, v) in zip(axes, panels.items(), strict=True):
        ax.barh(pos, v, color=["#2ca02c" if w > 0 else "#d62728" for w in v])
        ax.axvline(0, color="#444444", linewidth=0.8)
        ax.set_title(name, family=families, fontsize=10)
        ax.set_yticks(pos, names, family=families)
    fig.suptitle(title, family=families, fontsize=10)
    save_figure(fig, path)


def _alternate_classes(indices: list[int], positive: np.ndarray, n: int) -> list[int]:
    """The first ``n`` of ``indices``, taken from the two predicted classes in turn.

    The first review keeps its place; with two or more, the page shows a review
    the network calls positive and one it calls negative.
    """
    queues = [[j for j in indices if positive[j] == c] for c in (True, False)]
    if indices and not positive[indices[0]]:
        queues.reverse()
    chosen: list[int] = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    return chosen


def torch_text_section(ctx: DemoContext, config: TorchTextConfig | None = None
                       ) -> SectionResult:
    """Train seed 002's text CNN on Rotten Tomatoes; Grad-CAM, IG and LIME per word.

    The explained test reviews alternate between the two classes the network
    predicts (the first long review first).

    Parameters
    ----------
    ctx : DemoContext
    config : TorchTextConfig, optional

    Returns
    -------
    SectionResult
    """
    import torch
    from whylens.lime import LimeTextExplainer
    from whylens.render.html import explanation_html
    from whylens.torch import GradCAM, LayerIntegratedGradients

    config = config or TorchTextConfig()
    split = rotten_tomatoes_split(ctx.seed)
    if config.max_train is not None:
        split = dataclasses.replace(split, X_train=split.X_train[: config.max_train],
                                    y_train=split.y_train[: config.max_train])
    rep = review_vocabulary(split.X_train, config.vocab_size)
    vocab = rep.vocab
    ctx.step(f"torch text: training embedding -> Conv1d(1,2,3) -> BiGRU on "
             f"{len(split.X_train)} reviews")
    start = time.perf_counter()
    threads = torch.get_num_threads()
    # One thread: this small network's ops are too short to share between threads, and
    # with other processes on the cores the threads spend the training waiting.
    torch.set_num_threads(1)
    try:
        # Seeded from the initial weights on (they came from whatever state the global
        # generator was in), and the caller's generator left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(ctx.seed)
            model = review_net(len(vocab), config.embedding_dim, config.gru_dim)
            _train(model, rep.encode(split.X_train).ids, np.asarray(split.y_train),
                   config.epochs, ctx.seed)
    finally:
        torch.set_num_threads(threads)
    train_seconds = time.perf_counter() - start
    with torch.inference_mode():
        p = model(torch.as_tensor(rep.encode(split.X_test).ids))[:, 0].numpy()
    accuracy = float(np.mean((p > 0.5) == np.asarray(split.y_test)))

    predict = rep.predict_fn(model, returns="probability")  # the net ends in sigmoid
    lime = LimeTextExplainer(class_names=split.class_names, bow=False, random_state=ctx.seed)
    gradcam = GradCAM(model, config.layer)
    ig = LayerIntegratedGradients(model, "embedding", n_steps=config.ig_steps)
    n_samples = min(config.lime_samples, ctx.num_samples)
    chosen = _alternate_classes(long_documents(split.X_test), p > 0.5, ctx.n_instances)
    label = 1
    instances = []
    explain_start = time.perf_counter()
    for i, j in enumerate(chosen):
        ctx.step(f"torch text: explaining test review {j} ({i + 1}/{len(chosen)})")
        text = split.X_test[j]
        t0 = time.perf_counter()
        cam_exp = rep.explain(gradcam, text, target=0)
        ig_exp = rep.explain(ig, text, target=0)
        lime_exp = lime.explain_instance(text, predict, labels=(label,),
                                         num_features=len(cam_exp.feature_names),
                                         num_samples=n_samples, progress=ctx.progress)
        seconds = time.perf_counter() - t0
        name = f"torch_text_{i}"
        png = ctx.out_dir / f"{name}.png"
        _panels(f"Review {j}: p(positive) = {float(ig_exp.output[0, 0]):.3f}",
                cam_exp.feature_names,
                {f"Grad-CAM ({config.layer})": cam_exp.values[0, 0],
                 "Integrated Gradients (embedding)": ig_exp.values[0, 0],
                 "LIME (words)": lime_exp.values[0, 0]}, png)
        for k, exp in (("gradcam", cam_exp), ("ig", ig_exp)):
            (ctx.out_dir / "explanations" / f"{name}_{k}.json").write_text(
                exp.to_json(), encoding="utf-8")
        fragment = (
            f"<p class='wl-demo-meta'>Integrated Gradients on the embedding (sum "
            f"{ig_exp.values.sum():+.3f} = p(review) - p(padding) "
            f"{float(ig_exp.output[0, 0] - ig_exp.base_values[0, 0]):+.3f}, delta "
            f"{float(ig_exp.delta[0, 0]):+.1e}):</p>"
            + explanation_html(ig_exp, labels=0, predict_proba=False, standalone=False)
            + f"<p class='wl-demo-meta'>Grad-CAM at {html.escape(config.layer)}:</p>"
            + explanation_html(cam_exp, labels=0, predict_proba=False, standalone=False)
            + "<p class='wl-demo-meta'>LIME over the same words:</p>"
            + explanation_html(lime_exp, labels=label, standalone=False)
        )
        instances.append(instance_result(
            ctx, name, f"Test review {j}", lime_exp, label,
            split.class_names[int(split.y_test[j])], seconds, png, fragment))
    return SectionResult(
        name="torch_text",
        title="PyTorch text CNN: Grad-CAM, Integrated Gradients and LIME per word",
        data=f"{split.name}: {split.n_total} reviews, classes "
             f"{' / '.join(split.class_names)}",
        source=split.source,
        model=f"Embedding({len(vocab)}, {config.embedding_dim}) -> Conv1d k=1|2|3 (32|16|8) "
              f"-> AvgPool1d(2) -> BiGRU({config.gru_dim}) -> Linear -> sigmoid, "
              f"{config.epochs} epochs of Adam",
        method=f"whylens.torch.GradCAM at {config.layer}, LayerIntegratedGradients on the "
               f"embedding ({config.ig_steps} Gauss-Legendre steps, padding baseline), "
               f"LimeTextExplainer over the words (positional, num_samples={n_samples}), "
               f"per token through TokenIdRepresentation, random_state={ctx.seed}",
        output_names=list(split.class_names), n_train=len(split.X_train),
        n_test=len(split.X_test), accuracy=accuracy, train_seconds=train_seconds,
        explain_seconds=time.perf_counter() - explain_start, instances=instances,
    )
