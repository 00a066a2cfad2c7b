"""docs/migrating-shap.md: every code block runs, and equals shap's block.

The page's fenced ``python`` blocks name themselves on their first line:
``# setup`` (run before each snippet), ``# shap`` (shap's code) and
``# whylens`` (the same code with ``import shap`` changed to ``import
whylens.shap as shap``). Apart from imports and comments the two blocks are
identical unless the whylens block says ``# changed:`` why. A whylens
block's last lines say what to check:

- ``# compare: ours = theirs, ...``: the whylens expression (evaluated after
  the whylens block) equals the shap expression (after shap's block) in shape
  and numbers (1e-8); ``# compare: name`` compares one name on both sides.
  Skipped, after the whylens block ran, where shap is not installed;
- ``# shapes: expr (2, 3), ...``: the expression's shape.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "migrating-shap.md"


def _blocks() -> list[tuple[str, str]]:
    """[(tag, code)] of the page's python blocks, in order."""
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)
    return [(b.splitlines()[0].lstrip("# ").strip(), b) for b in blocks]


def _cases() -> list[tuple[int, str | None, str]]:
    cases, peer = [], None
    for i, (tag, code) in enumerate(_blocks()):
        if tag == "shap":
            peer = code
        elif tag == "whylens":
            cases.append((i, peer, code))
            peer = None
    return cases


def _split(items: str) -> list[str]:
    """Split at the commas outside brackets: ``a[:, 0] = b, c`` -> ``["a[:, 0] = b", "c"]``."""
    out, depth, start = [], 0, 0
    for k, ch in enumerate(items):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            out.append(items[start:k].strip())
            start = k + 1
    out.append(items[start:].strip())
    return [o for o in out if o]


def _directives(code: str, name: str) -> list[str]:
    return [item for line in code.splitlines() if line.startswith(f"# {name}:")
            for item in _split(line.split(":", 1)[1])]


def _run(code: str) -> dict:
    from matplotlib import pyplot as plt

    setup = "\n".join(c for t, c in _blocks() if t == "setup")
    namespace: dict = {"__name__": "migrating_shap"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # shap's plt.show() on Agg, its progress bars
            exec(compile(setup + "\n" + code, str(PAGE), "exec"), namespace)
    finally:
        plt.close("all")  # shap draws on pyplot's figures
    return namespace


def _code_lines(code: str) -> list[str]:
    return [line for line in code.splitlines()[1:]
            if line.strip() and not line.startswith(("from ", "import ", "#"))]


def test_the_page_pairs_shaps_snippets():
    cases = _cases()
    assert sum(1 for _, peer, _ in cases if peer) >= 6
    assert all(peer is None or "import shap\n" in peer for _, peer, _ in cases)
    assert all("import whylens.shap as shap" in code for _, peer, code in cases if peer)


@pytest.mark.parametrize(("index", "peer", "code"), _cases(), ids=[str(c[0]) for c in _cases()])
def test_snippet(index, peer, code):
    import matplotlib

    matplotlib.use("Agg")
    try:
        ours = _run(code)
    except ImportError as exc:
        if "shap" in str(exc) and "whylens" not in str(exc):
            pytest.skip(f"shap is not importable here ({exc})")
        raise
    if peer is not None and not _directives(code, "changed"):
        assert _code_lines(peer) == _code_lines(code), "only the imports may differ"
    for item in _directives(code, "shapes"):
        expr, shape = re.fullmatch(r"(.+?)\s*(\([\d, ]*\))", item).groups()
        assert tuple(np.shape(eval(expr, ours))) == eval(shape), expr
    compared = _directives(code, "compare")
    if not compared:
        return
    assert peer is not None, "a compare line needs shap's block before it"
    pytest.importorskip("shap")
    theirs = _run(peer)
    for item in compared:
        mine, _, other = (s.strip() for s in item.partition("="))
        a, b = eval(mine, ours), eval(other or mine, theirs)
        assert np.shape(a) == np.shape(b), item
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                   rtol=0, atol=1e-8, err_msg=item)
