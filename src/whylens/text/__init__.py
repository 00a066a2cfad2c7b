"""Text utilities: tokenizers that keep character offsets.

Korean morpheme tokenizers (``"kiwi"``, ``"mecab"``) live in
:mod:`whylens.text.tokenizers` and load their analyser on first use.
"""

from whylens.text._select import get_tokenizer
from whylens.text._tokenize import (
    Token,
    char_tokenize,
    locate_tokens,
    separator_tokenizer,
    word_tokenize,
)

__all__ = [
    "Token",
    "char_tokenize",
    "get_tokenizer",
    "locate_tokens",
    "separator_tokenizer",
    "word_tokenize",
]
