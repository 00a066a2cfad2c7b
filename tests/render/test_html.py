"""HTML of text and tabular explanations: lime's arguments, what the page shows, no JavaScript,
standalone files, escaping. Pages are parsed back (a small tree builder that also checks every
tag is closed in order) and compared with the explanation's own numbers."""

from __future__ import annotations

import inspect
import re
import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from whylens import Explanation
from whylens.errors import BatchExplanationError, InputError, MissingDependencyError
from whylens.explanation import Features
from whylens.lime import LimeTabularExplainer, LimeTextExplainer
from whylens.render.html import NEGATIVE_COLOR, POSITIVE_COLOR


# ------------------------------------------------------------------ parsing
class _Node:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag = tag
        self.attrs = {k: ("" if v is None else v) for k, v in attrs}
        self.children: list[_Node | str] = []

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, _Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[_Node]:
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and (cls is None or cls in n.classes)]

    def find(self, tag: str | None = None, cls: str | None = None) -> _Node:
        found = self.find_all(tag, cls)
        assert len(found) == 1, f"{len(found)} <{tag} class={cls}> elements"
        return found[0]


class _Tree(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", [])
        self.stack = [self.root]
        self.declarations: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, attrs)
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(_Node(tag, attrs))

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> _Node:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    assert tree.stack == [tree.root], f"unclosed <{tree.stack[-1].tag}>"
    return tree.root


def style(node: _Node) -> dict[str, str]:
    out = {}
    for part in node.attrs.get("style", "").split(";"):
        if ":" in part:
            key, value = part.split(":", 1)
            out[key.strip()] = value.strip()
    return out


def rgba(text: str) -> tuple[tuple[int, int, int], float]:
    r, g, b, a = re.fullmatch(r"rgba\((\d+),(\d+),(\d+),([\d.]+)\)", text).groups()
    return (int(r), int(g), int(b)), float(a)


def rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[k : k + 2], 16) for k in (1, 3, 5))


def highlights(root: _Node) -> tuple[str, list[tuple[int, int, _Node]]]:
    """The text panel's plain text and each highlight's ``(start, end, node)`` in it."""
    panel = root.find("div", "wl-text")
    spans, pos = [], 0
    for child in panel.children:
        if isinstance(child, str):
            pos += len(child)
            continue
        assert "wl-hl" in child.classes
        spans.append((pos, pos + len(child.text()), child))
        pos += len(child.text())
    return panel.text(), spans


def bar_rows(root: _Node) -> list[tuple[str, str, float, str, str]]:
    """``(name, side, width %, colour, value text)`` of every bar of the (single) chart."""
    rows = []
    for row in root.find_all("div", "wl-row"):
        if "wl-head" in row.classes:
            continue
        neg, pos = row.find_all("div", "wl-half")
        bars = [(side, half.find("div", "wl-bar")) for side, half in (("neg", neg), ("pos", pos))
                if half.find_all("div", "wl-bar")]
        assert len(bars) == 1, "a weight has exactly one bar, on one side"
        side, bar = bars[0]
        css = style(bar)
        rows.append((row.find("span", "wl-name").text(), side, float(css["width"].rstrip("%")),
                     css["background"], row.find("span", "wl-val").text()))
    return rows


def probabilities(root: _Node) -> list[tuple[str, str]]:
    return [(r.find("span", "wl-name").text(), r.find("span", "wl-val").text())
            for r in root.find_all("div", "wl-prow")]


NO_JS = re.compile(r"<script|javascript:|\son[a-z]+\s*=", re.IGNORECASE)
EXTERNAL = re.compile(r"\b(?:src|href)\s*=|url\(|@import", re.IGNORECASE)


# ------------------------------------------------------------------ explanations
KOREAN = "이 영화 정말 좋다! 그런데 결말은 나쁘다, 그래도 좋다 😀"
WEIGHTS = {"좋다": 3.0, "나쁘다": -2.0, "정말": 0.5}


def _word_model(weights):
    """P(class 1) = sigmoid(sum of the weights of the words present)."""

    def predict(docs):
        scores = np.array([sum(w for word, w in weights.items() if word in re.findall(r"\w+", d))
                           for d in docs])
        p = 1.0 / (1.0 + np.exp(-scores))
        return np.c_[1 - p, p]

    return predict


@pytest.fixture(scope="module")
def text_exp():
    return LimeTextExplainer(class_names=["부정", "긍정"], random_state=0).explain_instance(
        KOREAN, _word_model(WEIGHTS), num_features=3, num_samples=1000)


def _table_model(Z):
    p = 1.0 / (1.0 + np.exp(-(3.0 * Z[:, 0] - 3.0 * Z[:, 1])))
    return np.c_[1 - p, p]


X_TABLE = np.random.default_rng(0).normal(size=(400, 4))
ROW = np.array([1.5, 1.5, 0.0, -0.3])  # x0 and x1 both in their top quartile


@pytest.fixture(scope="module")
def table_exp():
    explainer = LimeTabularExplainer(X_TABLE, feature_names=["up", "down", "flat", "noise"],
                                     class_names=["no", "yes"], random_state=0)
    return explainer.explain_instance(ROW, _table_model, num_features=3, num_samples=2000)


# ------------------------------------------------------------------ lime's arguments
@pytest.mark.parametrize("method", ["as_html", "show_in_notebook", "save_to_file"])
def test_signatures_are_limes(method):
    lime_explanation = pytest.importorskip("lime.explanation")

    def params(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert params(getattr(Explanation, method)) == \
        params(getattr(lime_explanation.Explanation, method))


def test_as_html_with_limes_positional_and_keyword_arguments(text_exp, table_exp):
    assert text_exp.as_html(None, True, True) == text_exp.as_html()
    assert text_exp.as_html(labels=None, predict_proba=True, show_predicted_value=True,
                            text=True, opacity=True) == text_exp.as_html()
    assert table_exp.as_html(None, True, True, show_table=True, show_all=False) == \
        table_exp.as_html()


def test_text_as_a_string_is_seed_000s_call(text_exp):
    """Seed 000 calls ``exp.show_in_notebook(text=document)``: as in lime, a non-empty
    string means "show the text"; ``text=False`` (or "") leaves the text panel out."""
    page = text_exp.as_html(text=KOREAN)
    assert page == text_exp.as_html(text=True)
    assert parse(page).find_all("div", "wl-text")
    for off in (False, ""):
        root = parse(text_exp.as_html(text=off))
        assert root.find_all("div", "wl-text") == []
        assert len(bar_rows(root)) == 3  # the chart stays


def test_labels_and_predict_proba_choose_the_panels():
    exp = LimeTextExplainer(class_names=["neg", "pos"], random_state=0).explain_instance(
        "a good film", _word_model({"good": 2.0}), labels=(0, 1), num_samples=300)
    both = parse(exp.as_html())
    assert [p.attrs["data-label"] for p in both.find_all("div", "wl-panel")
            if "data-label" in p.attrs] == ["0", "1"]
    only = parse(exp.as_html(labels=[1], predict_proba=False))
    assert [p.attrs["data-label"] for p in only.find_all("div", "wl-panel")
            if "data-label" in p.attrs] == ["1"]
    assert probabilities(only) == []
    assert "Prediction probabilities" not in only.text()
    with pytest.raises(InputError, match="label"):
        exp.as_html(labels=[2])
    with pytest.raises(InputError, match="show_tabel"):
        exp.as_html(show_tabel=True)


def test_show_in_notebook_displays_the_fragment(text_exp, monkeypatch):
    shown = []

    class HTML:
        def __init__(self, data):
            self.data = data

    display_module = types.ModuleType("IPython.display")
    display_module.HTML = HTML
    display_module.display = lambda *objs: shown.extend(objs)
    package = types.ModuleType("IPython")
    package.display = display_module
    monkeypatch.setitem(sys.modules, "IPython", package)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)

    assert text_exp.show_in_notebook(text=KOREAN) is None
    assert len(shown) == 1 and isinstance(shown[0], HTML)
    assert shown[0].data == text_exp._repr_html_()  # the fragment, not a whole page
    assert "<html" not in shown[0].data and not NO_JS.search(shown[0].data)
    text_exp.show_in_notebook(None, False, True, text=False)
    root = parse(shown[1].data)
    assert probabilities(root) == [] and root.find_all("div", "wl-text") == []


def test_show_in_notebook_without_ipython_says_what_to_do(text_exp, monkeypatch, tmp_path):
    """No IPython: an ImportError (as lime's) that names IPython and the ways out; nothing
    is printed or written instead."""
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="label"):  # a bad argument is named first
        text_exp.show_in_notebook(labels=[5])
    with pytest.raises(MissingDependencyError, match="IPython") as info:
        text_exp.show_in_notebook(text=KOREAN)
    assert isinstance(info.value, ImportError)
    assert "save_html" in str(info.value) and "pip install ipython" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_save_to_file_writes_as_html(text_exp, tmp_path):
    path = tmp_path / "exp.html"
    text_exp.save_to_file(str(path), None, True, True, text=KOREAN)
    assert path.read_text(encoding="utf-8") == text_exp.as_html(text=KOREAN)
    text_exp.save_to_file(path, labels=[1], predict_proba=False)
    assert path.read_text(encoding="utf-8") == text_exp.as_html(labels=[1], predict_proba=False)


# ------------------------------------------------------------------ text pages
def test_text_highlights_each_selected_word_at_its_offsets(text_exp):
    weights = dict(text_exp.as_list(label=1))
    assert set(weights) == set(WEIGHTS)
    assert weights["좋다"] > 0 and weights["정말"] > 0 and weights["나쁘다"] < 0
    text, spans = highlights(parse(text_exp._repr_html_()))
    assert text == KOREAN  # the whole document, character for character
    expected = sorted([(KOREAN.index("좋다"), KOREAN.index("좋다") + 2, "좋다"),
                       (KOREAN.rindex("좋다"), KOREAN.rindex("좋다") + 2, "좋다"),
                       (KOREAN.index("정말"), KOREAN.index("정말") + 2, "정말"),
                       (KOREAN.index("나쁘다"), KOREAN.index("나쁘다") + 3, "나쁘다")])
    assert [(s, e, text[s:e]) for s, e, _ in spans] == expected
    top = max(abs(w) for w in weights.values())
    for start, end, node in spans:
        word = text[start:end]
        i = int(node.attrs["data-feature"])
        assert text_exp.features.names[i] == word
        assert [start, end] in text_exp.features.spans[0][i]
        color, alpha = rgba(style(node)["background-color"])
        assert color == rgb(POSITIVE_COLOR if weights[word] > 0 else NEGATIVE_COLOR)
        assert alpha == pytest.approx(abs(weights[word]) / top, abs=1e-3)
        assert node.attrs["title"] == f"{word}: {weights[word]:+.3f}"


def test_text_without_opacity_gives_every_highlight_full_colour(text_exp):
    _, spans = highlights(parse(text_exp.as_html(opacity=False)))
    assert len(spans) == 4
    assert {rgba(style(node)["background-color"])[1] for _, _, node in spans} == {1.0}


def test_text_page_lists_probabilities_and_signed_bars(text_exp):
    root = parse(text_exp._repr_html_())
    p = text_exp.predict_proba
    order = np.argsort(-p)
    assert probabilities(root) == [(["부정", "긍정"][k], f"{p[k]:.2f}") for k in order]
    ranked = text_exp.as_list(label=1)
    top = abs(ranked[0][1])
    assert [(n, s, c, v) for n, s, _, c, v in bar_rows(root)] == [
        (word, "pos" if w > 0 else "neg", POSITIVE_COLOR if w > 0 else NEGATIVE_COLOR,
         f"{w:+.3f}") for word, w in ranked]
    widths = [width for _, _, width, _, _ in bar_rows(root)]
    np.testing.assert_allclose(widths, [100 * abs(w) / top for _, w in ranked], atol=0.06)


# ------------------------------------------------------------------ tabular pages
def test_tabular_bars_show_the_feature_conditions_with_their_signs(table_exp):
    ranked = table_exp.as_list(1)
    conditions = dict(ranked)
    # The instance lies in the top quartile of "up" and "down": the conditions lime writes.
    q3 = np.percentile(X_TABLE, 75, axis=0)
    up, down = f"up > {q3[0]:.2f}", f"down > {q3[1]:.2f}"
    assert conditions[up] > 0 > conditions[down]
    root = parse(table_exp._repr_html_())
    rows = bar_rows(root)
    assert [r[0] for r in rows] == [name for name, _ in ranked]
    for name, side, _, colour, value in rows:
        w = conditions[name]
        assert (side, colour, value) == (("pos", POSITIVE_COLOR) if w > 0
                                         else ("neg", NEGATIVE_COLOR)) + (f"{w:+.3f}",)
    heads = root.find("div", "wl-head").find_all("div", "wl-half")
    assert [h.text() for h in heads] == ["no", "yes"]  # lime's "no | yes" for label 1
    p = table_exp.predict_proba
    assert probabilities(root) == [(["no", "yes"][k], f"{p[k]:.2f}") for k in np.argsort(-p)]


def test_tabular_table_shows_the_selected_values_or_all(table_exp):
    ranked = table_exp.as_map()[1]
    weights = dict(ranked)
    table = parse(table_exp._repr_html_()).find("table", "wl-table")
    cells = [(int(tr.attrs["data-feature"]), [td.text() for td in tr.find_all("td")], tr)
             for tr in table.find_all("tr") if "data-feature" in tr.attrs]
    names = table_exp.features.names
    assert [(i, c) for i, c, _ in cells] == [(i, [names[i], f"{ROW[i]:.2f}"]) for i, _ in ranked]
    for i, _, tr in cells:
        color, _ = rgba(style(tr)["background"])
        assert color == rgb(POSITIVE_COLOR if weights[i] > 0 else NEGATIVE_COLOR)

    every = parse(table_exp.as_html(show_all=True)).find("table", "wl-table")
    rows = [tr for tr in every.find_all("tr") if "data-feature" in tr.attrs]
    assert sorted(int(tr.attrs["data-feature"]) for tr in rows) == [0, 1, 2, 3]
    unselected = [tr for tr in rows if int(tr.attrs["data-feature"]) not in weights]
    assert len(unselected) == 1 and "style" not in unselected[0].attrs
    assert parse(table_exp.as_html(show_table=False)).find_all("table") == []


def test_regression_page_shows_the_predicted_value_and_range():
    X = np.random.default_rng(1).normal(size=(300, 2))
    exp = LimeTabularExplainer(X, mode="regression", feature_names=["a", "b"],
                               discretize_continuous=False, random_state=0).explain_instance(
        np.array([0.5, -1.0]), lambda Z: 2.0 * Z[:, 0] + 10.0, num_samples=500)
    root = parse(exp.as_html())
    assert root.find("div", "wl-big").text() == "11"
    lo, hi = exp.params["y_range"]
    assert root.find("div", "wl-range").text() == f"min {lo:.2f}max {hi:.2f}"
    assert bar_rows(root)[0][:2] == ("a", "pos")
    hidden = parse(exp.as_html(show_predicted_value=False))
    assert hidden.find_all("div", "wl-big") == [] and hidden.find_all("div", "wl-range") == []


# ------------------------------------------------------------------ no JavaScript, files
def test_repr_html_renders_without_javascript(text_exp, table_exp):
    for exp in (text_exp, table_exp):
        fragment = exp._repr_html_()
        assert not NO_JS.search(fragment) and not EXTERNAL.search(fragment)
        root = parse(fragment)
        assert root.children[0].classes == ["whylens-exp"]
        assert root.find("style").text().lstrip().startswith(".whylens-exp")
        assert "<html" not in fragment and "<!doctype" not in fragment.lower()


def test_batches_have_no_html_view():
    batch = Explanation(values=np.zeros((2, 1, 3)), labels=[0], method="test",
                        features=Features(kind="tabular", names=["a", "b", "c"]))
    assert batch._repr_html_() is None
    with pytest.raises(BatchExplanationError, match=r"exp\[0\]"):
        batch.as_html()
    assert "a" in batch[0]._repr_html_()


@pytest.mark.parametrize("as_str", [False, True])
def test_save_html_writes_a_standalone_utf8_page(text_exp, tmp_path, as_str):
    path = tmp_path / "page.html"
    text_exp.save_html(str(path) if as_str else path)
    raw = path.read_bytes()
    page = raw.decode("utf-8")
    assert page.startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in page and "<html>" in page and "</html>" in page
    for piece in ("이 영화 ", "그런데 결말은", "😀"):  # Hangul and the emoji as UTF-8
        assert piece.encode("utf-8") in raw
    assert not NO_JS.search(page) and not EXTERNAL.search(page)
    root = parse(page)
    assert root.find("title").text() == "whylens: lime.text explanation"
    assert root.find("div", "whylens-exp") is not None
    assert highlights(root)[0] == KOREAN
    text_exp.save_html(path, text=False)
    assert parse(Path(path).read_text(encoding="utf-8")).find_all("div", "wl-text") == []


# ------------------------------------------------------------------ escaping
def test_text_and_class_names_are_escaped():
    doc = 'An <b>"odd"</b> film & it\'s <script>alert(1)</script> good'
    exp = LimeTextExplainer(class_names=['<no> & "x"', "y's"], split_expression=r"\s+",
                            random_state=0).explain_instance(
        doc, _word_model({"good": 2.0}), num_features=12, num_samples=500)
    page = exp.as_html()
    assert "<script>" not in page and "<b>" not in page and '"odd"' not in page
    assert '<no> & "x"' not in page
    root = parse(page)
    text, spans = highlights(root)
    assert text == doc
    for start, end, node in spans:
        i = int(node.attrs["data-feature"])
        assert text[start:end] == exp.features.names[i]
        assert node.attrs["title"].startswith(f"{exp.features.names[i]}: ")
    assert {n for n, _ in probabilities(root)} == {'<no> & "x"', "y's"}
    assert {n for n, _, _, _, _ in bar_rows(root)} == {w for w, _ in exp.as_list(1)}
    assert {'<b>"odd"</b>', "&", "it's", "<script>alert(1)</script>"} <= set(exp.features.names)
    assert len(spans) == len(exp.features.names)  # every word selected, every one marked


def test_feature_names_and_values_are_escaped():
    names = ["a<b", "x & y", 'q"t', "it's"]
    exp = LimeTabularExplainer(X_TABLE, feature_names=names, class_names=["<no>", "&yes"],
                               random_state=0).explain_instance(ROW, _table_model,
                                                                num_features=4, num_samples=500)
    page = exp.as_html(show_all=True)
    for raw in [*names, "<no>", "&yes"]:
        assert raw not in page
    root = parse(page)
    assert [n for n, _, _, _, _ in bar_rows(root)] == [d for d, _ in exp.as_list(1)]
    table = root.find("table", "wl-table")
    assert sorted(tr.find_all("td")[0].text() for tr in table.find_all("tr")
                  if "data-feature" in tr.attrs) == sorted(names)
    assert {n for n, _ in probabilities(root)} == {"<no>", "&yes"}
    assert [h.text() for h in root.find("div", "wl-head").find_all("div", "wl-half")] == \
        ["<no>", "&yes"]
