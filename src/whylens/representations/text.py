"""Text as interpretable features: words (or characters) that can be removed.

A :class:`TextRepresentation` holds one document split into tokens with
offsets. In bag-of-words mode a feature is a distinct word and removing it
removes every occurrence; in positional mode a feature is one occurrence and
removing it replaces that place with ``mask_string``. :meth:`apply` builds the
strings of a whole chunk of masks at once: the UTF-8 bytes of every document
are gathered from a pool of the document's pieces by one index array, decoded
once and split at a separator, an ASCII control character the document and
the mask string do not contain (a join per row when they contain all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens._workspace import scratch
from whylens.errors import InputError, describe
from whylens.text._tokenize import Token

__all__ = ["TextRepresentation"]


class TextRepresentation:
    """One document and its removable features.

    Parameters
    ----------
    text : str
        The document.
    tokens : sequence of Token
        Its tokens with offsets, in order, not overlapping.
    bow : bool, default=True
        Bag of words: a feature is a distinct token string (all occurrences).
        Otherwise a feature is one token occurrence.
    mask_string : str, optional
        What replaces a removed token. Default: ``""`` (deleted) in bag-of-words
        mode, ``"UNKWORDZ"`` in positional mode (lime's defaults).

    Attributes
    ----------
    names : list of str, length n_features
    spans : list of list of [start, end], length n_features
        Every occurrence of each feature in ``text``.
    token_feature : ndarray of int, shape (n_tokens,)
        Feature index of each token.

    Raises
    ------
    InputError
        If the document has no tokens.
    """

    def __init__(self, text: str, tokens: Sequence[Token], bow: bool = True,
                 mask_string: str | None = None) -> None:
        if not tokens:
            raise InputError(
                describe("text_instance", "a document with at least one word",
                         text, "LIME needs words to remove; check the text or the tokenizer.")
            )
        self.text = text
        self.tokens = list(tokens)
        self.bow = bool(bow)
        if mask_string is None:
            mask_string = "" if self.bow else "UNKWORDZ"
        self.mask_string = mask_string
        names: list[str] = []
        spans: list[list[list[int]]] = []
        token_feature = np.empty(len(self.tokens), dtype=np.int64)
        index: dict[str, int] = {}
        for i, tok in enumerate(self.tokens):
            if self.bow:
                j = index.setdefault(tok.text, len(names))
                if j == len(names):
                    names.append(tok.text)
                    spans.append([])
            else:
                j = len(names)
                names.append(tok.text)
                spans.append([])
            spans[j].append([tok.start, tok.end])
            token_feature[i] = j
        self.names = names
        self.spans = spans
        self.token_feature = token_feature
        # The document as [gap0, tok0, gap1, tok1, ..., gapT].
        gaps: list[str] = []
        cursor = 0
        for tok in self.tokens:
            gaps.append(text[cursor : tok.start])
            cursor = tok.end
        gaps.append(text[cursor:])
        self._gaps = np.array(gaps, dtype=object)
        self._words = np.array([t.text for t in self.tokens], dtype=object)
        self._pool = _PiecePool(gaps, [t.text for t in self.tokens], mask_string)

    @property
    def n_features(self) -> int:
        """Number of interpretable features."""
        return len(self.names)

    @property
    def instance(self) -> str:
        """The document (the :class:`~whylens.representations.Representation` protocol)."""
        return self.text

    def apply(self, Z: np.ndarray) -> list[str]:
        """Build the documents of a chunk of masks.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_features)
            1 keeps a feature, 0 removes it.

        Returns
        -------
        list of str, length n_samples
        """
        keep = np.asarray(Z, dtype=bool)[:, self.token_feature]  # (n, n_tokens)
        if self._pool.usable:
            return self._pool.build(keep)
        n, t = keep.shape
        pieces = np.empty((n, 2 * t + 1), dtype=object)
        pieces[:, 0::2] = self._gaps
        pieces[:, 1::2] = np.where(keep, self._words, self.mask_string)
        return ["".join(row) for row in pieces.tolist()]


class _PiecePool:
    """The UTF-8 bytes of a document's gaps, words and mask string, from which
    the documents of many masks are gathered at once.

    Piece ``2 i`` of a document is gap ``i``; piece ``2 i + 1`` is word ``i``
    or, where removed, the mask string; a separator ends every document. The
    separator is the first of :data:`SEPARATORS` (ASCII control characters,
    one UTF-8 byte each) that no piece contains; the pool is not ``usable``
    when every one occurs.
    """

    SEPARATORS = "".join(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F]))

    def __init__(self, gaps: Sequence[str], words: Sequence[str], mask_string: str) -> None:
        present = set().union(*map(set, (*gaps, *words, mask_string)))
        self.separator = next((c for c in self.SEPARATORS if c not in present), None)
        self.usable = self.separator is not None
        if not self.usable:
            return
        encode = lambda text: text.encode("utf-8", "surrogatepass")  # noqa: E731
        pieces = [encode(p) for p in gaps] + [encode(w) for w in words] + \
            [encode(mask_string), encode(self.separator)]
        lengths = np.array([len(p) for p in pieces], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.bytes = np.frombuffer(b"".join(pieces), dtype=np.uint8)
        t = len(words)
        self.gap_start, self.gap_len = starts[: t + 1], lengths[: t + 1]
        self.word_start, self.word_len = starts[t + 1 : 2 * t + 1], lengths[t + 1 : 2 * t + 1]
        self.mask_start, self.mask_len = starts[2 * t + 1], lengths[2 * t + 1]
        self.sep_start, self.sep_len = starts[2 * t + 2], lengths[2 * t + 2]

    def build(self, keep: np.ndarray) -> list[str]:
        """Documents of boolean keep masks (n, n_tokens), in row order."""
        n, t = keep.shape
        kept = keep.sum(axis=0)
        total = int(n * (self.gap_len.sum() + self.sep_len) + kept @ self.word_len
                    + (n * t - int(kept.sum())) * self.mask_len)
        kernel = _compiled_gather()
        with scratch((total,), np.uint8, slot="text.bytes") as out:
            if kernel is not None:
                kernel(self.bytes, self.gap_start, self.gap_len, self.word_start,
                       self.word_len, self.mask_start, self.mask_len,
                       self.bytes[self.sep_start], np.ascontiguousarray(keep), out)
            else:
                out[:] = self.bytes[self._byte_index(keep, total)]
            text = str(memoryview(out), "utf-8", "surrogatepass")
        docs = text.split(self.separator)
        docs.pop()  # after the last separator
        return docs

    def _byte_index(self, keep: np.ndarray, total: int) -> np.ndarray:
        """Pool index of every output byte (the numpy path of :meth:`build`)."""
        n, t = keep.shape
        start = np.empty((n, 2 * t + 2), dtype=np.int64)
        length = np.empty((n, 2 * t + 2), dtype=np.int64)
        start[:, 0 : 2 * t + 1 : 2] = self.gap_start
        length[:, 0 : 2 * t + 1 : 2] = self.gap_len
        start[:, 1 : 2 * t : 2] = np.where(keep, self.word_start, self.mask_start)
        length[:, 1 : 2 * t : 2] = np.where(keep, self.word_len, self.mask_len)
        start[:, -1] = self.sep_start
        length[:, -1] = self.sep_len
        start, length = start.ravel(), length.ravel()
        # Byte k of the output comes from pool byte start[p] + (k - first byte of p).
        ends = np.cumsum(length)
        index = np.repeat(start - (ends - length), length)
        index += np.arange(total, dtype=np.int64)
        return index


def _compiled_gather() -> Any:
    """The numba kernel of :meth:`_PiecePool.build`, or None without numba."""
    try:
        from whylens.representations._text_kernels import gather_documents
    except ImportError:
        return None
    return gather_documents
