"""Tokenizer by name: the one place that knows every tokenizer, Korean included."""

from __future__ import annotations

from whylens.errors import InputTypeError, describe
from whylens.text._tokenize import (
    Token,
    Tokenizer,
    TokenizerSpec,
    char_tokenize,
    locate_tokens,
    separator_tokenizer,
    word_tokenize,
)

__all__ = ["get_tokenizer"]


def get_tokenizer(spec: TokenizerSpec = None, argument: str = "tokenizer") -> Tokenizer:
    """Resolve a tokenizer specification.

    Parameters
    ----------
    spec : None, str or callable
        ``None`` or ``"word"``: :func:`word_tokenize`; ``"char"``:
        :func:`char_tokenize`; ``"kiwi"`` or ``"mecab"``: Korean morphemes
        (:mod:`whylens.text.tokenizers`, optional extras); any other string:
        a separator regex as lime's
        ``split_expression``; a callable ``f(text)`` returning strings,
        Tokens or ``(text, start, end)`` triples.
    argument : str, default="tokenizer"
        Name of the user's argument that held ``spec``, for error messages.

    Returns
    -------
    callable
        ``tokenize(text) -> list[Token]``.

    Raises
    ------
    InputTypeError
        ``spec`` is none of the above.
    """
    if spec is None or spec == "word":
        return word_tokenize
    if spec == "char":
        return char_tokenize
    if spec in ("kiwi", "mecab"):
        from whylens.text.tokenizers import korean_tokenizer

        return korean_tokenizer(spec)
    if isinstance(spec, str):
        return separator_tokenizer(spec)
    if callable(spec):
        def tokenize(text: str) -> list[Token]:
            return locate_tokens(text, spec(text))

        return tokenize
    raise InputTypeError(
        describe(argument, "None, 'word', 'char', a separator regex or a callable", spec)
    )
