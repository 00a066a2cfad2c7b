"""Text masking: bag-of-words removes every occurrence, positional only one place."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError
from whylens.representations import TextRepresentation
from whylens.text import word_tokenize

TEXT = "good movie, good cast; bad end"


def test_bag_of_words_removes_every_occurrence():
    rep = TextRepresentation(TEXT, word_tokenize(TEXT), bow=True)
    assert rep.names == ["good", "movie", "cast", "bad", "end"]
    assert rep.spans[0] == [[0, 4], [12, 16]]
    Z = np.ones((2, rep.n_features))
    Z[1, 0] = 0
    assert rep.apply(Z) == [TEXT, " movie,  cast; bad end"]


def test_positional_masks_one_place():
    rep = TextRepresentation(TEXT, word_tokenize(TEXT), bow=False)
    assert rep.names == ["good", "movie", "good", "cast", "bad", "end"]
    Z = np.ones((1, rep.n_features))
    Z[0, 2] = 0
    assert rep.apply(Z) == ["good movie, UNKWORDZ cast; bad end"]
    rep = TextRepresentation(TEXT, word_tokenize(TEXT), bow=False, mask_string="[MASK]")
    assert rep.apply(Z) == ["good movie, [MASK] cast; bad end"]


def test_hangul_masking_keeps_offsets():
    text = "이 영화 정말 재미있어요!"
    rep = TextRepresentation(text, word_tokenize(text))
    Z = np.array([[1, 0, 1, 0]])
    assert rep.apply(Z) == ["이  정말 !"]
    assert [text[s:e] for (s, e), in rep.spans] == rep.names


def test_apply_matches_a_per_row_reference():
    rng = np.random.default_rng(0)
    rep = TextRepresentation(TEXT, word_tokenize(TEXT))
    Z = rng.integers(0, 2, size=(50, rep.n_features))
    for z, doc in zip(Z, rep.apply(Z), strict=True):
        removed = {rep.names[j] for j in np.flatnonzero(z == 0)}
        expected, cursor = [], 0
        for tok in word_tokenize(TEXT):
            expected.append(TEXT[cursor : tok.start])
            expected.append("" if tok.text in removed else tok.text)
            cursor = tok.end
        expected.append(TEXT[cursor:])
        assert doc == "".join(expected)


def test_empty_document_is_refused():
    with pytest.raises(InputError, match="at least one word"):
        TextRepresentation("?!", word_tokenize("?!"))


def _reference_docs(rep: TextRepresentation, Z: np.ndarray) -> list[str]:
    """One join per row: what apply must return."""
    keep = Z.astype(bool)[:, rep.token_feature]
    docs = []
    for row in keep:
        pieces = [rep._gaps[0]]
        for i, word in enumerate(rep._words):
            pieces.append(word if row[i] else rep.mask_string)
            pieces.append(rep._gaps[i + 1])
        docs.append("".join(pieces))
    return docs


_ALL_SEPARATORS = "".join(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F]))


@pytest.mark.parametrize("text, bow, mask", [
    (TEXT, True, None),
    (TEXT, False, None),
    ("  정말 재미있어요!! 배우 연기는 별로 😀 그래도 정말 좋아 ", True, None),
    ("  정말 재미있어요!! 배우 연기는 별로 😀 그래도 정말 좋아 ", False, "[가림]"),
    ("odd \ud800 surrogate and é accents", True, None),
    ("a NUL\x00inside the text", False, "<x>"),  # NUL occurs: the next separator
    ("masked by NUL", False, "\x00"),  # char-level positional LIME's mask
    ("every separator " + _ALL_SEPARATORS + " occurs", False, "<x>"),  # per-row joins
])
def test_bulk_documents_equal_per_row_joins_compiled_or_not(monkeypatch, text, bow, mask):
    """The byte-pool build (numba kernel or numpy index) gives exactly the
    per-row joins, for any script, odd code points and the separator itself."""
    from whylens.representations import text as text_module

    rep = TextRepresentation(text, word_tokenize(text), bow=bow, mask_string=mask)
    pieces = text + (rep.mask_string or "")
    assert rep._pool.usable == any(c not in pieces for c in _ALL_SEPARATORS)
    if rep._pool.usable:
        assert rep._pool.separator not in pieces
    Z = np.random.default_rng(1).integers(0, 2, size=(300, rep.n_features)).astype(float)
    Z[0] = 1
    expected = _reference_docs(rep, Z)
    assert expected[0] == text
    assert rep.apply(Z) == expected
    monkeypatch.setattr(text_module, "_compiled_gather", lambda: None)
    assert rep.apply(Z) == expected


def test_text_representation_implements_the_protocol():
    from whylens.representations import Representation, TextRepresentation
    from whylens.text import get_tokenizer

    text = "a good good film"
    rep = TextRepresentation(text, get_tokenizer(None)(text))
    assert isinstance(rep, Representation)
    assert rep.instance == text and rep.names == ["a", "good", "film"]
    assert rep.apply(np.array([[1, 0, 1]])) == ["a   film"]
