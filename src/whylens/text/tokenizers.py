"""Tokenizers by name, Korean morphological analysers included.

=========  ====================================================  =======================
name       tokens                                                needs
=========  ====================================================  =======================
"word"     Unicode word regex (default; Hangul words whole)       nothing
"char"     every character                                       nothing
"kiwi"     Korean morphemes (kiwipiepy)                          ``pip install "whylens[ko]"``
"mecab"    Korean morphemes (python-mecab-ko, mecab-ko-dic)       ``pip install "whylens[mecab]"``
=========  ====================================================  =======================

Every name is accepted wherever whylens takes a tokenizer
(``LimeTextExplainer(split_expression="kiwi")``,
``whylens.shap.TextMasker(tokenizer="kiwi")``,
:class:`whylens.representations.TokenIdRepresentation`).

Morphemes keep offsets into the *original* text. A morphological analyser
may return normalised forms whose spans overlap: kiwi reads ``"했다"`` as
``하/VV + 었/EP + 다/EF`` with ``하`` and ``었`` both on ``"했"``. Such
morphemes are merged into one :class:`Morpheme`: its ``text`` is the surface
``"했"`` (so removing it from the text is well defined), its ``form`` is
``"하+었"`` and its ``tag`` ``"VV+EP"`` (the key to look up in a vocabulary of
morphemes). Analysers load lazily, once per process (the kiwi model takes a
few seconds), and are never imported by ``import whylens``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from whylens.errors import InputTypeError, MissingDependencyError, describe
from whylens.text._tokenize import Token, char_tokenize, word_tokenize

__all__ = [
    "TOKENIZER_NAMES",
    "KiwiTokenizer",
    "MecabTokenizer",
    "Morpheme",
    "char_tokenize",
    "korean_tokenizer",
    "token_key",
    "word_tokenize",
]

TOKENIZER_NAMES = ("word", "char", "kiwi", "mecab")


@dataclass(frozen=True)
class Morpheme(Token):
    """A morpheme (or merged run of morphemes sharing characters) with offsets.

    Attributes
    ----------
    text : str
        The surface in the original text, ``text[start:end]``.
    start, end : int
        Character offsets into the original text.
    form : str
        The analyser's form(s), joined with ``"+"`` when merged (``"하+었"``).
    tag : str
        Part-of-speech tag(s) (Sejong tags), joined with ``"+"``.
    """

    form: str = ""
    tag: str = ""


def token_key(token: Token) -> str:
    """The vocabulary key of a token: a morpheme's ``form``, else its text."""
    form = getattr(token, "form", "")
    return form if form else token.text


def _merge(text: str, pieces: list[tuple[str, str, int, int]]) -> list[Morpheme]:
    """``(form, tag, start, end)`` pieces -> non-overlapping Morphemes in text order."""
    groups: list[list[Any]] = []
    for form, tag, start, end in sorted(pieces, key=lambda p: (p[2], p[3])):
        end = max(end, start)
        if groups and (start < groups[-1][1] or end <= start):
            g = groups[-1]
            g[1] = max(g[1], end)
            g[2].append(form)
            g[3].append(tag)
        else:
            groups.append([start, end, [form], [tag]])
    return [Morpheme(text[s:e], s, e, "+".join(forms), "+".join(tags))
            for s, e, forms, tags in groups if e > s]


def _missing(name: str, package: str, extra: str, exc: Exception) -> MissingDependencyError:
    return MissingDependencyError(
        describe("tokenizer", f"{package} installed for the {name!r} tokenizer",
                 got_text=f"ImportError ({exc})",
                 fix=f'Install the {extra!r} extra: pip install "whylens[{extra}]", '
                     "or use tokenizer='word'.")
    )


@functools.cache
def _shared_kiwi() -> Any:
    try:
        from kiwipiepy import Kiwi
    except ImportError as exc:
        raise _missing("kiwi", "kiwipiepy", "ko", exc) from exc
    return Kiwi()


@functools.cache
def _shared_mecab() -> Any:
    try:
        import mecab
    except ImportError as exc:
        raise _missing("mecab", "python-mecab-ko", "mecab", exc) from exc
    return mecab.MeCab()


class KiwiTokenizer:
    """Korean morphemes from kiwipiepy, with offsets into the original text.

    Parameters
    ----------
    kiwi : kiwipiepy.Kiwi, optional
        An analyser to use (with a user dictionary, say). Default: one shared
        ``Kiwi()`` per process, loaded on the first call.

    Raises
    ------
    MissingDependencyError
        On the first call, if kiwipiepy is not installed (the ``ko`` extra).

    Examples
    --------
    >>> tok = KiwiTokenizer()                                   # doctest: +SKIP
    >>> [(m.text, m.start, m.end) for m in tok("영화가 재밌다")]  # doctest: +SKIP
    [('영화', 0, 2), ('가', 2, 3), ('재밌', 4, 6), ('다', 6, 7)]
    """

    name = "kiwi"

    def __init__(self, kiwi: Any = None) -> None:
        self._kiwi = kiwi

    @property
    def kiwi(self) -> Any:
        """The analyser (loaded on first use)."""
        if self._kiwi is None:
            return _shared_kiwi()
        return self._kiwi

    def __call__(self, text: str) -> list[Morpheme]:
        """Tokenize one text.

        Returns
        -------
        list of Morpheme
            In text order, offsets not overlapping.
        """
        if not isinstance(text, str):
            raise InputTypeError(describe("text", "a str", text))
        pieces = [(t.form, t.tag, int(t.start), int(t.start) + int(t.len))
                  for t in self.kiwi.tokenize(text)]
        return _merge(text, pieces)

    def morphs(self, text: str) -> list[str]:
        """Vocabulary keys of the text's morphemes (``form`` of each Morpheme)."""
        return [token_key(m) for m in self(text)]

    def __getstate__(self) -> dict[str, Any]:
        return {"_kiwi": None}  # rebuilt from the shared analyser after unpickling

    def __repr__(self) -> str:
        return "KiwiTokenizer()"


def _mecab_form(surface: str, pos: str, expression: str | None) -> str:
    """The form of a mecab token: ``"하+았"`` for ``"했"`` (``VV+EP``, expression
    ``"하/VV/*+았/EP/*"``), else the surface."""
    if not expression or "+" not in pos:
        return surface
    parts = [part.split("/") for part in expression.split("+")]
    if any(len(part) < 2 or not part[0] for part in parts) or "+".join(
            part[1] for part in parts) != pos:
        return surface  # an expression that does not spell out this tag
    return "+".join(part[0] for part in parts)


class MecabTokenizer:
    """Korean morphemes from python-mecab-ko (mecab-ko-dic), with offsets.

    Mecab's surfaces are substrings of the text, located in order (mecab's own
    ``span`` is not used: python-mecab-ko 1.3.7 shifts it by the text's leading
    whitespace). A surface that mecab analyses as several morphemes stays one
    token with mecab's joined tag, and its ``form`` is the morphemes' forms from
    mecab's expression field: ``"했"`` is ``Morpheme("했", 0, 1, "하+았", "VV+EP")``
    and ``"인가"`` has form ``"이+ᆫ가"``, tag ``"VCP+EF"``. A compound noun
    (``"자연주의"``, tag ``NNG``) keeps its surface as its form. Spaces are not
    tokens, also those mecab tags as symbols (no-break space, U+3000, form
    feed). Mecab reads a NUL character as the end of the text, so NULs are read
    as spaces.

    Parameters
    ----------
    mecab : mecab.MeCab, optional
        Default: one shared ``mecab.MeCab()`` per process.

    Raises
    ------
    MissingDependencyError
        On the first call, if python-mecab-ko is not installed (the ``mecab`` extra).
    """

    name = "mecab"

    def __init__(self, mecab: Any = None) -> None:
        self._mecab = mecab

    @property
    def mecab(self) -> Any:
        """The analyser (loaded on first use)."""
        return _shared_mecab() if self._mecab is None else self._mecab

    def __call__(self, text: str) -> list[Morpheme]:
        if not isinstance(text, str):
            raise InputTypeError(describe("text", "a str", text))
        pieces = []
        cursor = 0
        for item in self.mecab.parse(text.replace("\x00", " ")):
            surface = getattr(item, "surface", None)
            feature = getattr(item, "feature", None)
            if surface is None:  # older releases: (surface, Feature) pairs
                surface, feature = item[0], item[1]
            start = text.find(surface, cursor)
            if start < 0 or not surface:
                continue
            cursor = start + len(surface)
            if surface.isspace():  # NBSP, U+3000, \f...: mecab tags them SY, kiwi drops them
                continue
            pos = getattr(feature, "pos", None) or ""
            pieces.append((_mecab_form(surface, pos, getattr(feature, "expression", None)),
                           pos, start, cursor))
        return _merge(text, pieces)

    def morphs(self, text: str) -> list[str]:
        """The text's morpheme surfaces, as ``mecab.morphs``."""
        return [m.text for m in self(text)]

    def __getstate__(self) -> dict[str, Any]:
        return {"_mecab": None}

    def __repr__(self) -> str:
        return "MecabTokenizer()"


def korean_tokenizer(name: str) -> KiwiTokenizer | MecabTokenizer:
    """The tokenizer called ``name`` (``"kiwi"`` or ``"mecab"``)."""
    return KiwiTokenizer() if name == "kiwi" else MecabTokenizer()
