"""Text as interpretable features: words (or characters) that can be removed.

A :class:`TextRepresentation` holds one document split into tokens with
offsets. In bag-of-words mode a feature is a distinct word and removing it
removes every occurrence; in positional mode a feature is one occurrence and
removing it replaces that place with ``mask_string``. :meth:`apply` builds the
strings of a whole chunk of masks with one join per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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

    @property
    def n_features(self) -> int:
        """Number of interpretable features."""
        return len(self.names)

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
        n, t = keep.shape
        pieces = np.empty((n, 2 * t + 1), dtype=object)
        pieces[:, 0::2] = self._gaps
        pieces[:, 1::2] = np.where(keep, self._words, self.mask_string)
        return ["".join(row) for row in pieces.tolist()]
