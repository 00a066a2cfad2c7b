"""Removal of features from instances, a chunk of mask rows at a time.

Numeric inputs: ``where(keep[fmap], x, baseline)`` with one fancy index per
chunk (or ``x - shift[fmap]`` for the perturbation metrics); texts: each
token occurrence kept, dropped or replaced by a mask token, one string per
mask row. Both have ``build(instances, keep=None, shift=None)`` and ``k``,
the model rows each mask row gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens.errors import InputError, describe

__all__ = ["NumericRemover", "TextRemover"]


class NumericRemover:
    """Removal for numeric inputs: ``where(keep[fmap], x, baseline)``.

    ``baseline`` has shape (n, k, *S) (per instance) or (k, *S) (shared); with
    k > 1 every mask row gives k model rows whose outputs are averaged.
    """

    def __init__(self, x: np.ndarray, fmap: np.ndarray, per_instance_map: bool,
                 baseline: np.ndarray, per_instance_baseline: bool,
                 to_model: Callable[[np.ndarray], Any] | None) -> None:
        self.x = x
        self.fmap = fmap
        self.per_instance_map = per_instance_map
        # in the inputs' dtype, so that the removal writes what the model reads
        self.baseline = baseline.astype(x.dtype, copy=False)
        self.per_instance_baseline = per_instance_baseline
        self.k = int(baseline.shape[1] if per_instance_baseline else baseline.shape[0])
        self.to_model = to_model
        self.numeric = True

    def _elements(self, instances: np.ndarray, per_feature: np.ndarray) -> np.ndarray:
        """``per_feature`` (m, F) at each element's feature: (m, *S)."""
        if self.per_instance_map:
            fm = self.fmap[instances]
            return per_feature[np.arange(len(instances)).reshape((-1,) + (1,) * (fm.ndim - 1)),
                               fm]
        return per_feature[:, self.fmap]

    def build(self, instances: np.ndarray, keep: np.ndarray | None = None,
              shift: np.ndarray | None = None) -> Any:
        """Model inputs of mask rows: (m * k, *S) (k baseline rows per mask row)."""
        rows = self.x[instances]
        if shift is not None:  # x - I, the perturbation given per feature
            out = (rows - self._elements(instances, shift)).astype(self.x.dtype, copy=False)
            out = np.repeat(out, self.k, axis=0) if self.k > 1 else out
        else:
            kept = self._elements(instances, keep)
            base = self.baseline[instances] if self.per_instance_baseline else self.baseline[None]
            out = np.where(kept[:, None], rows[:, None], base).astype(self.x.dtype, copy=False)
            out = out.reshape((-1, *self.x.shape[1:]))
        return out if self.to_model is None else self.to_model(out)


class TextRemover:
    """Removal of tokens (every occurrence of a feature) or their replacement by a mask token."""

    def __init__(self, texts: Sequence[str], spans: Sequence[Any], n_features: int,
                 mask_token: str) -> None:
        self.k = 1
        self.numeric = False
        self.mask_token = mask_token
        self.pieces: list[tuple[list[str], np.ndarray, list[str]]] = []
        for i, (text, feature_spans) in enumerate(zip(texts, spans, strict=True)):
            occurrences = []
            for f, spans_f in enumerate(feature_spans):
                for start, end in spans_f:
                    occurrences.append((int(start), int(end), f))
            occurrences.sort()
            gaps, words, ids = [], [], []
            at = 0
            for start, end, f in occurrences:
                if start < at or end > len(text) or start > end:
                    raise InputError(describe(
                        "explanation", "features.spans of non-overlapping [start, end) "
                        f"offsets inside each text (instance {i})",
                        got_text=f"the span [{start}, {end}) of feature {f}"))
                gaps.append(text[at:start])
                words.append(text[start:end])
                ids.append(f)
                at = end
            gaps.append(text[at:])
            self.pieces.append((gaps, np.asarray(ids, dtype=np.int64), words))
        self.n_features = n_features

    def build(self, instances: np.ndarray, keep: np.ndarray | None = None,
              shift: np.ndarray | None = None) -> list[str]:
        """One string per mask row, removed tokens dropped (or replaced by the mask token)."""
        out = []
        for row, i in enumerate(instances):
            gaps, ids, words = self.pieces[int(i)]
            kept = keep[row, ids] if ids.size else ids.astype(bool)
            parts = [gaps[0]]
            for j, word in enumerate(words):
                parts.append(word if kept[j] else self.mask_token)
                parts.append(gaps[j + 1])
            out.append("".join(parts))
        return out
