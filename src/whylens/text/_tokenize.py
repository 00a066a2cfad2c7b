"""Tokenizers that keep character offsets.

The default tokenizer is a Unicode word regex: runs of letters, digits and
underscores in any script (Hangul, Han, Cyrillic, Arabic, ...), with
combining marks kept inside their word (so Devanagari or Thai words are not
cut at their vowel signs). For English it gives the same words as lime's
default ``split_expression=r'\\W+'``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from whylens.errors import InputError, InputTypeError, describe

__all__ = [
    "Token",
    "Tokenizer",
    "TokenizerSpec",
    "char_tokenize",
    "locate_tokens",
    "separator_tokenizer",
    "word_tokenize",
]


@dataclass(frozen=True)
class Token:
    """A token and its ``[start, end)`` character offsets in the original text."""

    text: str
    start: int
    end: int


Tokenizer = Callable[[str], list[Token]]
TokenizerSpec = None | str | Callable[[str], Sequence[Any]]


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    """``\\w`` plus every combining mark of the Basic Multilingual Plane."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    marks = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return re.compile(rf"(?:\w|[{marks}])+")


def word_tokenize(text: str) -> list[Token]:
    """Split ``text`` into words of any script, with offsets.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of Token

    Examples
    --------
    >>> [t.text for t in word_tokenize("이 영화 정말 재미있어요!")]
    ['이', '영화', '정말', '재미있어요']
    """
    return [Token(m.group(), m.start(), m.end()) for m in _word_pattern().finditer(text)]


def char_tokenize(text: str) -> list[Token]:
    """Every character is a token (lime's ``char_level=True``).

    Returns
    -------
    list of Token
    """
    return [Token(c, i, i + 1) for i, c in enumerate(text)]


def separator_tokenizer(split_expression: str) -> Tokenizer:
    """Tokenizer from a *separator* regex, as lime's ``split_expression``.

    The text is split at matches of ``split_expression``; the pieces between
    separators are the tokens.

    Raises
    ------
    InputError
        If the expression is not a valid regex.
    """
    try:
        separator = re.compile(split_expression)
    except re.error as exc:
        raise InputError(describe("split_expression", "a valid regular expression",
                                  split_expression, f"The regex does not compile: {exc}.")) from exc

    def tokenize(text: str) -> list[Token]:
        tokens: list[Token] = []
        start = 0
        for match in separator.finditer(text):
            if match.start() > start:
                tokens.append(Token(text[start : match.start()], start, match.start()))
            start = max(start, match.end())
        if start < len(text):
            tokens.append(Token(text[start:], start, len(text)))
        return tokens

    return tokenize


def locate_tokens(text: str, tokens: Sequence[Any]) -> list[Token]:
    """Turn a tokenizer's output into Tokens with offsets.

    Accepts :class:`Token` objects, ``(text, start, end)`` triples, or plain
    strings, which are searched for in order from the end of the previous
    token (lime's rule for callable tokenizers).

    Raises
    ------
    InputError
        If a string token does not occur in the rest of the text, or offsets
        do not match the text.
    """
    out: list[Token] = []
    cursor = 0
    for item in tokens:
        if isinstance(item, Token):
            token = item
        elif isinstance(item, str):
            start = text.find(item, cursor)
            if start < 0 or not item:
                raise InputError(
                    describe("tokenizer output", "tokens that occur in the text, in order",
                             item, "A tokenizer that normalises words must return "
                             "(text, start, end) triples with offsets into the original text.")
                )
            token = Token(item, start, start + len(item))
        elif isinstance(item, (tuple, list)) and len(item) == 3:
            token = Token(str(item[0]), int(item[1]), int(item[2]))
        else:
            raise InputTypeError(
                describe("tokenizer output", "str tokens, Token objects or (text, start, end)",
                         item)
            )
        if not 0 <= token.start <= token.end <= len(text) or token.start < cursor:
            raise InputError(
                describe("tokenizer output", "non-overlapping offsets inside the text, in order",
                         got_text=f"{token!r} (text has {len(text)} characters)")
            )
        out.append(token)
        cursor = token.end
    return out
