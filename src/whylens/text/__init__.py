"""Text utilities: tokenizers that keep character offsets."""

from whylens.text._tokenize import (
    Token,
    char_tokenize,
    get_tokenizer,
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
