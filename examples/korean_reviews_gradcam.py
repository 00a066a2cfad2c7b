"""Why is this Korean movie review negative? Grad-CAM, Integrated Gradients and LIME per morpheme.

The workflow of seed 002 in PyTorch and whylens: Korean reviews (NSMC format,
tab-separated ``id  document  label``) are split into morphemes with kiwi,
mapped to ids through a 5,000-morpheme vocabulary, and a small network learns
positive (1) / negative (0):

    embedding(50) -> Conv1d k=1 (32) | Conv1d k=2 (16) | Conv1d k=3 (8), 'same' padding
                  -> average pooling (2) -> concat -> BiGRU(10) -> Linear -> sigmoid

It prints test accuracy and AUC, then explains one review three ways, each
value attached to a morpheme of the original string (offsets kept):

- Grad-CAM at a chosen Conv1d layer (the seed's heat map; non-negative),
- Integrated Gradients on the embedding against an all-padding review
  (signed; sums to p(review) - p(padding), the gap printed),
- LIME over the same morphemes (signed; the surrogate's weights),

and saves the three as bar charts side by side (Hangul in a Nanum font when
installed).

Run from the repository root (the defaults train on 20,000 reviews; the smoke
test in ``tests/test_examples.py`` runs it on a small file with ``--train-size 32
--test-size 8 --epochs 1 --lime-samples 50``)::

    .venv/bin/python examples/korean_reviews_gradcam.py                # ../shared/data/nsmc
    .venv/bin/python examples/korean_reviews_gradcam.py path/to/nsmc --train-size 40000 \\
        --epochs 3 --layer conv2 --text "배우들 연기가 정말 좋았다" --out review.png
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data" / "nsmc"
# The review the seed explains (its test index 90).
DEFAULT_TEXT = "로코 굉장히 즐겨보는데, 이 영화는 좀 별로였다. 뭔가 사랑도 개그도 억지스런 느낌.."


def read_nsmc(path: Path, limit: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Read an NSMC file (header ``id document label``); a random ``limit`` rows."""
    docs, labels = [], []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[1:3] != ["document", "label"]:
            sys.exit(f"{path}: expected a header 'id<TAB>document<TAB>label', got {header}")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[1].strip():
                docs.append(parts[1].strip())
                labels.append(int(parts[2]))
    rng = np.random.default_rng(seed)
    keep = rng.permutation(len(docs))[:limit]
    return [docs[i] for i in keep], np.asarray(labels)[keep]


def build_model(vocab_size: int, pad_id: int):
    import torch
    from torch import nn

    class ReviewNet(nn.Module):
        """embedding -> parallel Conv1d(1, 2, 3) -> avg pool -> BiGRU -> sigmoid."""

        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, 50, padding_idx=pad_id)
            self.conv1 = nn.Conv1d(50, 32, 1, padding="same")
            self.conv2 = nn.Conv1d(50, 16, 2, padding="same")
            self.conv3 = nn.Conv1d(50, 8, 3, padding="same")
            self.pool = nn.AvgPool1d(2)
            self.dropout = nn.Dropout(0.2)
            self.gru = nn.GRU(56, 10, batch_first=True, bidirectional=True)
            self.out = nn.Linear(20, 1)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            e = self.embedding(ids).transpose(1, 2)  # (n, 50, L)
            h = torch.cat([self.pool(self.conv1(e)), self.pool(self.conv2(e)),
                           self.pool(self.conv3(e))], dim=1)  # (n, 56, L/2)
            _, last = self.gru(self.dropout(h.transpose(1, 2)))
            z = torch.cat([last[0], last[1]], dim=1)
            return torch.sigmoid(self.out(self.dropout(z)))  # (n, 1): p(positive)

    return ReviewNet()


def train(model, ids: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.BCELoss()
    X = torch.as_tensor(ids)
    Y = torch.as_tensor(y, dtype=torch.float32)[:, None]
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(X), generator=gen)
        total = 0.0
        for start in range(0, len(X), 100):
            batch = order[start : start + 100]
            opt.zero_grad()
            loss = loss_fn(model(X[batch]), Y[batch])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        print(f"  epoch {epoch + 1}: train loss {total / len(X):.4f}")
    model.eval()


def bar_panels(text: str, names: list[str], panels: dict, path: Path) -> None:
    """One bar chart per method, morphemes in text order on the y axis."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from whylens.plot._fonts import text_families

    families = text_families()
    fig = Figure(figsize=(4.2 * len(panels), 0.9 + 0.33 * len(names)), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True)
    pos = np.arange(len(names))[::-1]
    for ax, (title, v) in zip(axes, panels.items(), strict=True):
        ax.barh(pos, v, color=["#2ca02c" if w > 0 else "#d62728" for w in v])
        ax.axvline(0, color="#444444", linewidth=0.8)
        ax.set_title(title, family=families)
        ax.set_yticks(pos, names, family=families)
        ax.xaxis.set_major_locator(MaxNLocator(4))  # a few readable ticks per panel
    fig.suptitle(text, family=families)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA),
                        help="folder with ratings_train.txt and ratings_test.txt, "
                             "or one NSMC-format file to split 80/20")
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--test-size", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--vocab-size", type=int, default=5000)
    parser.add_argument("--layer", default="conv1", choices=["conv1", "conv2", "conv3"])
    parser.add_argument("--text", default=DEFAULT_TEXT, help="the review to explain")
    parser.add_argument("--index", type=int, default=None,
                        help="explain this test review instead of --text")
    parser.add_argument("--lime-samples", type=int, default=1000)
    parser.add_argument("--out", default="korean_review_explained.png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: a small GRU trains fastest on a shared CPU)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        sys.exit('This example needs torch: pip install "whylens[torch,ko]"')
    from sklearn.metrics import roc_auc_score

    from whylens.lime import LimeTextExplainer
    from whylens.representations import TokenIdRepresentation
    from whylens.text.tokenizers import KiwiTokenizer
    from whylens.torch import GradCAM, LayerIntegratedGradients

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    if data.is_dir():
        if not (data / "ratings_train.txt").exists():
            sys.exit(f"{data}: no ratings_train.txt (pass the NSMC folder or a file)")
        train_docs, y_train = read_nsmc(data / "ratings_train.txt", args.train_size, args.seed)
        test_docs, y_test = read_nsmc(data / "ratings_test.txt", args.test_size, args.seed)
    elif data.is_file():
        docs, labels = read_nsmc(data, args.train_size + args.test_size, args.seed)
        cut = int(0.8 * len(docs))
        train_docs, y_train, test_docs, y_test = docs[:cut], labels[:cut], docs[cut:], labels[cut:]
    else:
        sys.exit(f"{data}: not found. Pass the NSMC folder, e.g. ../shared/data/nsmc")

    t0 = time.perf_counter()
    tokenize = KiwiTokenizer()
    train_tokens = [tokenize(d) for d in train_docs]
    print(f"kiwi: {len(train_docs)} training reviews in {time.perf_counter() - t0:.1f} s")
    counts = collections.Counter(m.form for toks in train_tokens for m in toks)
    vocab = {"<pad>": 0, "<unk>": 1}
    for form, _ in counts.most_common(args.vocab_size):
        vocab[form] = len(vocab)
    max_len = int(np.median([len(t) for t in train_tokens])) + 5  # the seed's rule
    rep = TokenIdRepresentation(vocab, tokenizer=tokenize, max_len=max_len, pad_id=0, unk_id=1,
                                padding="pre", truncation="pre")
    train_ids = rep.encode(train_docs).ids
    test_ids = rep.encode(test_docs).ids
    print(f"vocabulary {len(vocab)} morphemes, sequence length {max_len}")

    model = build_model(len(vocab), pad_id=0)
    t0 = time.perf_counter()
    train(model, train_ids, y_train, args.epochs, args.seed)
    print(f"training: {time.perf_counter() - t0:.1f} s")
    with torch.inference_mode():
        prob = model(torch.as_tensor(test_ids))[:, 0].numpy()
    acc = float(((prob > 0.5) == y_test).mean())
    # AUC needs both classes among the test reviews (a tiny file may have one)
    auc = f"{roc_auc_score(y_test, prob):.3f}" if len(set(y_test.tolist())) == 2 else "n/a"
    print(f"test ({len(test_docs)} reviews): accuracy {acc:.3f}, AUC {auc}")

    text = test_docs[args.index] if args.index is not None else args.text
    gradcam = rep.explain(GradCAM(model, args.layer), text, target=0)
    ig = rep.explain(LayerIntegratedGradients(model, "embedding", n_steps=64), text, target=0)
    # the network ends in sigmoid: its output is already p(positive), not a logit
    predict = rep.predict_fn(model, returns="probability")
    lime = LimeTextExplainer(split_expression=tokenize, bow=False, random_state=args.seed
                             ).explain_instance(text, predict, labels=(1,),
                                                num_samples=args.lime_samples,
                                                num_features=len(tokenize(text)))
    p = float(gradcam.output[0, 0])
    print(f"\nreview: {text}\np(positive) = {p:.3f}  ->  {'positive' if p > 0.5 else 'negative'}")
    print(f"LIME's model call on the review: p(positive) = {float(lime.output[0, 1]):.3f}")
    print(f"IG completeness: sum = {ig.values.sum():+.4f}, p(review) - p(padding) = "
          f"{float(ig.output[0, 0] - ig.base_values[0, 0]):+.4f}, "
          f"delta = {float(ig.delta[0, 0]):+.2e}")
    # LIME's positional features are the same morphemes, in the same order
    assert lime.feature_names == gradcam.feature_names
    lime_by_pos = lime.values[0, 0]
    print(f"\n{'morpheme':<10}{'tag':<10}{'Grad-CAM':>10}{'IG':>10}{'LIME':>10}")
    tags = [m.tag for m in tokenize(text)]
    seen = gradcam.selected[0, 0]
    for k, name in enumerate(gradcam.feature_names):
        note = "" if seen[k] else "  (cut: beyond the model's sequence length)"
        print(f"{name:<10}{tags[k]:<10}{gradcam.values[0, 0, k]:>10.4f}"
              f"{ig.values[0, 0, k]:>+10.4f}{lime_by_pos[k]:>+10.4f}{note}")
    bar_panels(text, gradcam.feature_names,
               {f"Grad-CAM ({args.layer})": gradcam.values[0, 0],
                "Integrated Gradients (embedding)": ig.values[0, 0],
                "LIME (morphemes)": lime_by_pos}, Path(args.out))
    print(f"\nsaved {args.out}")


if __name__ == "__main__":
    main()
