"""Tokenizers keep offsets into the original text, in every script."""

from __future__ import annotations

import re

import pytest

from whylens.errors import InputError, InputTypeError
from whylens.text import Token, char_tokenize, get_tokenizer, locate_tokens, word_tokenize


def test_hangul_sentence_offsets_map_back():
    text = "이 영화 정말 재미있어요!"
    tokens = word_tokenize(text)
    assert [t.text for t in tokens] == ["이", "영화", "정말", "재미있어요"]
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert tokens[-1] == Token("재미있어요", 8, 13)


def test_combining_marks_stay_inside_words():
    text = "नमस्ते दुनिया"  # Devanagari vowel signs are combining marks
    assert [t.text for t in word_tokenize(text)] == ["नमस्ते", "दुनिया"]


@pytest.mark.parametrize(
    "text",
    ["it's a test, isn't it?", "the rock is destined to be the 21st century's new \" conan \"",
     "  leading and trailing  ", "under_score and numbers 3.14"],
)
def test_english_words_equal_limes_default_split(text):
    lime_words = [w for w in re.split(r"(\W+)|$", text) if w and not re.match(r"\W+", w)]
    assert [t.text for t in word_tokenize(text)] == lime_words


def test_separator_regex_and_chars():
    tokens = get_tokenizer(r"\s+")("a,b  c")
    assert [(t.text, t.start, t.end) for t in tokens] == [("a,b", 0, 3), ("c", 5, 6)]
    assert [t.text for t in char_tokenize("ab c")] == ["a", "b", " ", "c"]


def test_callable_tokenizers_strings_and_triples():
    text = "영화가 좋다"
    strings = get_tokenizer(lambda s: ["영화", "가", "좋", "다"])(text)
    assert [(t.start, t.end) for t in strings] == [(0, 2), (2, 3), (4, 5), (5, 6)]
    triples = get_tokenizer(lambda s: [("영화", 0, 2), ("좋다", 4, 6)])(text)
    assert triples[1] == Token("좋다", 4, 6)


@pytest.mark.parametrize(
    ("tokens", "error"),
    [
        (["없는"], InputError),
        ([("a", 5, 99)], InputError),
        ([("a", 3, 4), ("b", 0, 1)], InputError),
        ([42], InputTypeError),
    ],
)
def test_bad_tokenizer_output(tokens, error):
    with pytest.raises(error):
        locate_tokens("abc def", tokens)


def test_bad_specs():
    with pytest.raises(InputTypeError):
        get_tokenizer(3.5)
    with pytest.raises(InputError, match="regular expression"):
        get_tokenizer("(unclosed")
