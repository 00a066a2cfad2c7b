"""Korean morpheme tokenizers: morphemes, offsets into the original text, missing extras."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

from whylens.errors import MissingDependencyError
from whylens.text import get_tokenizer
from whylens.text.tokenizers import (
    KiwiTokenizer,
    MecabTokenizer,
    Morpheme,
    _merge,
    _shared_kiwi,
    _shared_mecab,
    token_key,
)


def test_merge_overlapping_morphemes_keeps_surface_and_forms():
    # kiwi's reading of "했다": 하/VV and 었/EP share the character "했"
    text = "했다"
    out = _merge(text, [("하", "VV", 0, 1), ("었", "EP", 0, 1), ("다", "EF", 1, 2)])
    assert out == [Morpheme("했", 0, 1, "하+었", "VV+EP"), Morpheme("다", 1, 2, "다", "EF")]
    assert [token_key(m) for m in out] == ["하+었", "다"]


def test_missing_kiwi_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "kiwipiepy", None)
    with pytest.raises(MissingDependencyError, match=r"kiwipiepy.*whylens\[ko\]"):
        _shared_kiwi.__wrapped__()


def test_missing_mecab_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mecab", None)
    _shared_mecab.cache_clear()
    tokenize = get_tokenizer("mecab")
    assert isinstance(tokenize, MecabTokenizer)
    with pytest.raises(MissingDependencyError, match=r"python-mecab-ko.*whylens\[mecab\]"):
        tokenize("영화가 재밌다")
    with pytest.raises(ImportError):  # existing `except ImportError` clauses keep working
        tokenize("영화")
    _shared_mecab.cache_clear()


class _FakeMecab:
    """python-mecab-ko's parse() surface: objects with .surface and .feature.pos."""

    class M:
        def __init__(self, surface, pos):
            self.surface = surface
            self.feature = type("F", (), {"pos": pos})()

    def parse(self, text):
        table = {"자연주의 쇼핑몰은 어떤 곳인가?": [("자연주의", "NNG"), ("쇼핑몰", "NNG"),
                                               ("은", "JX"), ("어떤", "MM"), ("곳", "NNG"),
                                               ("인가", "VCP+EF"), ("?", "SF")]}
        return [self.M(s, p) for s, p in table[text]]


def test_mecab_adapter_locates_surfaces():
    """The adapter on mecab's documented output, without the package (see the real tests below)."""
    text = "자연주의 쇼핑몰은 어떤 곳인가?"
    out = MecabTokenizer(_FakeMecab())(text)
    assert [(m.text, m.start, m.end, m.tag) for m in out] == [
        ("자연주의", 0, 4, "NNG"), ("쇼핑몰", 5, 8, "NNG"), ("은", 8, 9, "JX"),
        ("어떤", 10, 12, "MM"), ("곳", 13, 14, "NNG"), ("인가", 14, 16, "VCP+EF"),
        ("?", 16, 17, "SF")]


def test_mecab_adapter_skips_space_tokens():
    """Real mecab tags a no-break space or U+3000 as a symbol (SY); they are no tokens."""

    class SpaceMecab(_FakeMecab):
        def parse(self, text):
            return [self.M(s, p) for s, p in [("영화", "NNG"), ("\u3000", "SY"), ("좋", "VA"),
                                              ("다", "EC")]]

    out = MecabTokenizer(SpaceMecab())("영화\u3000좋다")
    assert [(m.text, m.start, m.end) for m in out] == [("영화", 0, 2), ("좋", 3, 4), ("다", 4, 5)]


def test_mecab_form_from_expression():
    from whylens.text.tokenizers import _mecab_form

    assert _mecab_form("했", "VV+EP", "하/VV/*+았/EP/*") == "하+았"
    assert _mecab_form("자연주의", "NNG", "자연/NNG/*+주의/NNG/*") == "자연주의"  # compound
    assert _mecab_form("재미있", "VA", "재밌/VA/*") == "재미있"  # one morpheme: surface
    assert _mecab_form("했", "VV+EP", None) == "했"
    assert _mecab_form("했", "VV+EP", "하/VV/*") == "했"  # does not spell out the tag


# ---------------------------------------------------------------- with real python-mecab-ko


@pytest.fixture(scope="module")
def real_mecab():
    module = pytest.importorskip("mecab")
    if not hasattr(module, "MeCab"):
        pytest.skip("the installed 'mecab' module is not python-mecab-ko")
    _shared_mecab.cache_clear()
    return MecabTokenizer()


@pytest.mark.parametrize(("text", "expected"), [
    ("이 영화 정말 재미있어요!", [
        ("이", 0, 1, "이", "MM"), ("영화", 2, 4, "영화", "NNG"), ("정말", 5, 7, "정말", "MAG"),
        ("재미있", 8, 11, "재미있", "VA"), ("어요", 11, 13, "어요", "EF"),
        ("!", 13, 14, "!", "SF")]),
    ("로코 굉장히 즐겨보는데, 이 영화는 좀 별로였다.", [
        ("로코", 0, 2, "로코", "NNG"), ("굉장히", 3, 6, "굉장히", "MAG"),
        ("즐겨", 7, 9, "즐기+어", "VV+EC"), ("보", 9, 10, "보", "VX"),
        ("는데", 10, 12, "는데", "EC"),
        (",", 12, 13, ",", "SC"), ("이", 14, 15, "이", "MM"), ("영화", 16, 18, "영화", "NNG"),
        ("는", 18, 19, "는", "JX"), ("좀", 20, 21, "좀", "MAG"), ("별로", 22, 24, "별로", "MAG"),
        ("였", 24, 25, "이+었", "VCP+EP"), ("다", 25, 26, "다", "EF"), (".", 26, 27, ".", "SF")]),
    # leading, repeated and trailing spaces: python-mecab-ko's own spans are shifted by 2 here
    ("  어제 영화를   봤다.  ", [
        ("어제", 2, 4, "어제", "MAG"), ("영화", 5, 7, "영화", "NNG"), ("를", 7, 8, "를", "JKO"),
        ("봤", 11, 12, "보+았", "VV+EP"), ("다", 12, 13, "다", "EF"), (".", 13, 14, ".", "SF")]),
])
def test_real_mecab_morphemes_forms_tags_offsets(real_mecab, text, expected):
    out = real_mecab(text)
    assert [(m.text, m.start, m.end, m.form, m.tag) for m in out] == expected
    assert get_tokenizer("mecab")(text) == out  # selectable by name
    assert real_mecab.morphs(text) == [e[0] for e in expected]  # surfaces, as mecab.morphs


def test_real_mecab_inflected_token_is_one_morpheme(real_mecab):
    """mecab-ko reads "했" as one token 하/VV+았/EP (its expression field), not two pieces."""
    assert real_mecab("했다") == [Morpheme("했", 0, 1, "하+았", "VV+EP"),
                                 Morpheme("다", 1, 2, "다", "EC")]
    assert [token_key(m) for m in real_mecab("자연주의 쇼핑몰은 어떤 곳인가?")] == [
        "자연주의", "쇼핑몰", "은", "어떤", "곳", "이+ᆫ가", "?"]


@pytest.mark.parametrize("text", [
    "", "   ", "\t영화\n\n재밌다\r\n", "  ㅋㅋ 10점 만점에 9점!! OK 😀 good  ",
    "😀😀영화👍🏽가 좋다", "너무재밓었다그래서보는것을추천한다",
    "1,000원 3.5점 ｆｕｌｌ\u3000ｗｉｄｔｈ",
    "영화가\u200b좋다", "   앞뒤 공백   여러    칸   ", "영화\xa0\xa0좋다\u3000ａ\u3000ｂ\x0c",
])
def test_real_mecab_offsets_cover_the_text_in_order(real_mecab, text):
    out = real_mecab(text)
    assert all(text[m.start : m.end] == m.text and m.text for m in out)
    assert all(a.end <= b.start for a, b in itertools.pairwise(out))
    covered = {i for m in out for i in range(m.start, m.end)}
    assert covered == {i for i, c in enumerate(text) if not c.isspace()}


def test_real_mecab_reads_past_a_nul(real_mecab):
    """Mecab stops at a NUL (a C string); the text after it is still analysed."""
    text = "좋다\x00영화"
    assert [(m.text, m.start, m.end) for m in real_mecab(text)] == [
        ("좋", 0, 1), ("다", 1, 2), ("영화", 3, 5)]


def test_lime_with_real_mecab_by_name(real_mecab):
    from whylens.lime import LimeTextExplainer

    def classifier(texts):
        p = np.array([0.9 if "재미" in t else 0.2 for t in texts])
        return np.stack([1 - p, p], axis=1)

    text = "배우들 연기가 최고였어요, 정말 재미있어요!"
    exp = LimeTextExplainer(split_expression="mecab", random_state=0).explain_instance(
        text, classifier, num_samples=300)
    assert exp.feature_names == ["배우", "들", "연기", "가", "최고", "였", "어요", ",", "정말",
                                 "재미있", "!"]
    assert exp.values.shape[-1] == len(exp.feature_names)
    top, weight = exp.as_list(1)[0]
    assert top == "재미있" and weight > 0.5
    for name, spans in zip(exp.feature_names, exp.features.spans[0], strict=True):
        assert spans and all(text[start:end] == name for start, end in spans)
    assert len(exp.features.spans[0][exp.feature_names.index("어요")]) == 2  # 였어요, 있어요


# ---------------------------------------------------------------- with kiwi


@pytest.fixture(scope="module")
def kiwi():
    pytest.importorskip("kiwipiepy")
    return KiwiTokenizer()  # the shared Kiwi loads once per session


def test_kiwi_morphemes_and_offsets(kiwi):
    text = "이 영화 정말 재미있었어요!"
    out = kiwi(text)
    assert [(m.text, m.start, m.end) for m in out] == [
        ("이", 0, 1), ("영화", 2, 4), ("정말", 5, 7), ("재미있", 8, 11), ("었", 11, 12),
        ("어요", 12, 14), ("!", 14, 15)]
    assert [m.tag for m in out][:3] == ["MM", "NNG", "MAG"]
    assert get_tokenizer("kiwi")(text) == out  # selectable by name


@pytest.mark.parametrize("text", [
    "아 더빙.. 진짜 짜증나네요 목소리",
    "너무재밓었다그래서보는것을추천한다",
    "교도소 이야기구먼 ..솔직히 재미는 없다..평점 조정",
    "했다 ㅋㅋㅋ 10점 만점에 9점!! OK",
])
def test_kiwi_offsets_cover_the_text_in_order(kiwi, text):
    out = kiwi(text)
    assert all(text[m.start : m.end] == m.text for m in out)
    assert all(a.end <= b.start for a, b in itertools.pairwise(out))
    covered = {i for m in out for i in range(m.start, m.end)}
    assert covered >= {i for i, c in enumerate(text) if not c.isspace()} - {
        i for i, c in enumerate(text) if c in "."}


def test_kiwi_splits_particles_that_words_glue_on(kiwi):
    """The point of morphemes (lime#684): '영화가' and '영화는' share the morpheme '영화'."""
    a, b = kiwi("영화가 좋다"), kiwi("영화는 별로")
    assert a[0].text == b[0].text == "영화"
    assert a[1].text == "가" and b[1].text == "는"


def test_lime_with_kiwi_by_name_finds_the_morpheme(kiwi):
    from whylens.lime import LimeTextExplainer

    def classifier(texts):
        p = np.array([0.9 if "재미" in t else 0.2 for t in texts])
        return np.stack([1 - p, p], axis=1)

    text = "영화가 재미있었다 배우는 별로"
    exp = LimeTextExplainer(split_expression="kiwi", random_state=0).explain_instance(
        text, classifier, num_samples=300)
    top, weight = exp.as_list(1)[0]
    assert top == "재미있" and weight > 0.5
    # offsets of the top feature point into the original text
    j = exp.feature_names.index("재미있")
    (start, end), = exp.features.spans[0][j]
    assert text[start:end] == "재미있"


def test_hangul_font_is_found_when_installed(recwarn):
    """A Nanum/Noto CJK font installed after matplotlib built its cache is still used."""
    pytest.importorskip("matplotlib")
    from matplotlib import font_manager

    from whylens.plot._fonts import cjk_font_family

    files = [p for p in font_manager.findSystemFonts()
             if "nanumgothic" in p.lower() or "notosanscjk" in p.lower()]
    if not files:
        pytest.skip("no Hangul font installed on this machine")
    family = cjk_font_family()
    assert family is not None
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    ax.set_title("영화가 재미있었다", family=[family, "DejaVu Sans"])
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    assert not [w for w in recwarn if "missing from" in str(w.message)]


def test_figure_text_takes_latin_from_dejavu_and_hangul_from_the_cjk_font(recwarn):
    """text_families(): DejaVu Sans first (its "<" is the one of every other figure,
    NanumGothic's looks like an angle bracket), the CJK family second, so a mixed label
    draws every glyph: the ASCII of a rule exactly as in DejaVu Sans alone."""
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from whylens.plot._fonts import cjk_font_family, text_families

    family = cjk_font_family()
    if family is None:
        pytest.skip("no Hangul font installed on this machine")
    assert text_families() == ["DejaVu Sans", family]

    def pixels(label, families):
        fig = Figure(figsize=(3, 0.5), dpi=80)
        fig.text(0.02, 0.3, label, family=families, fontsize=12)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())

    rule = "0.5 < x <= 5.59"
    np.testing.assert_array_equal(pixels(rule, text_families()), pixels(rule, ["DejaVu Sans"]))
    assert not (pixels(rule, text_families()) == pixels(rule, [family])).all()
    pixels("영화 < 5", text_families())
    assert not [w for w in recwarn if "missing from" in str(w.message)]
