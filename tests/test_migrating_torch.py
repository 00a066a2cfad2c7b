"""docs/migrating.md, torch sections: every code block runs, and equals the peer's block.

The page's ``## captum`` and ``## pytorch-grad-cam`` sections hold fenced
``python`` blocks whose first line names them: ``# setup`` (run before each
snippet of its section), ``# captum`` / ``# pytorch-grad-cam`` (the peer's
code) and ``# whylens`` (the same code with the imports changed). A whylens
block's last lines say what to check:

- ``# compare: a, b``: the variables equal the peer block's (same shape and
  dtype, 1e-6); skipped, after the whylens block ran, where the peer is
  not installed;
- ``# shapes: a`` (same shape as the peer's) or ``# shapes: a (2, 3)``;
- ``# reference: gradcam(model, layers, x, targets[, reshape]) = var``: the
  variable equals pytorch-grad-cam's formulas
  (:func:`tests.torch.test_gradcam_shapes.pgc_reference`), since
  pytorch-grad-cam needs torchvision and OpenCV to import.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

PAGE = Path(__file__).resolve().parents[1] / "docs" / "migrating.md"
SECTIONS = ("captum", "pytorch-grad-cam")
PEER_MODULES = {"captum": "captum", "pytorch-grad-cam": "pytorch_grad_cam"}


def _sections() -> dict[str, list[tuple[str, str]]]:
    """Section title -> [(tag, code)] of its python blocks, in order."""
    text = PAGE.read_text(encoding="utf-8")
    out: dict[str, list[tuple[str, str]]] = {}
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        title = part.splitlines()[0].strip()
        if title not in SECTIONS:
            continue
        blocks = re.findall(r"^```python\n(.*?)^```", part, flags=re.M | re.S)
        out[title] = [(b.splitlines()[0].lstrip("# ").strip(), b) for b in blocks]
    return out


def _cases() -> list[tuple[str, int, str | None, str]]:
    cases = []
    for title, blocks in _sections().items():
        peer = None
        for i, (tag, code) in enumerate(blocks):
            if tag == title:
                peer = code
            elif tag == "whylens":
                cases.append((title, i, peer, code))
                peer = None
    return cases


def _run(setup: str, code: str) -> dict:
    namespace: dict = {"__name__": "migrating"}
    exec(compile(setup + "\n" + code, str(PAGE), "exec"), namespace)
    return namespace


def _value(namespace: dict, expr: str):
    value = eval(expr, namespace)
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    return value


def _directives(code: str, name: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in code.splitlines()
            if line.startswith(f"# {name}:")]


def test_the_page_has_both_sections_and_pairs():
    sections = _sections()
    assert set(sections) == set(SECTIONS)
    cases = _cases()
    assert sum(1 for c in cases if c[0] == "captum" and c[2]) >= 5
    assert sum(1 for c in cases if c[0] == "pytorch-grad-cam" and c[2]) >= 3


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("title", "index", "peer", "code"), _cases(),
                         ids=[f"{c[0]}-{c[1]}" for c in _cases()])
def test_snippet(title, index, peer, code):
    import matplotlib

    matplotlib.use("Agg")
    setup = "\n".join(c for t, c in _sections()[title] if t == "setup")
    ours = _run(setup, code)
    # the peer's block, with its import as the only difference
    if peer is not None:
        assert _strip_imports(peer) == _strip_imports(code), "only the imports may differ"
    for item in _directives(code, "reference"):
        _check_reference(ours, item)
    fixed_shapes = []
    for item in _directives(code, "shapes"):
        for name, shape in re.findall(r"([\w.]+)\s*(\([\d, ]*\))?", item):
            if shape:
                assert tuple(_value(ours, name).shape) == eval(shape), name
            else:
                fixed_shapes.append(name)
    compared = [n.strip() for item in _directives(code, "compare") for n in item.split(",")]
    if not (compared or fixed_shapes):
        return
    try:
        theirs = _run(setup, peer)
    except ImportError as exc:
        if PEER_MODULES[title] in str(exc) or "torchvision" in str(exc) or "cv2" in str(exc):
            pytest.skip(f"{title} is not importable here ({exc}); the whylens block ran")
        raise
    for name in fixed_shapes:
        assert tuple(_value(ours, name).shape) == tuple(_value(theirs, name).shape), name
    for name in compared:
        a, b = _value(ours, name), _value(theirs, name)
        assert type(a) is type(b), name
        assert a.shape == b.shape and a.dtype == b.dtype, name
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                   rtol=0, atol=1e-6, err_msg=name)


def _strip_imports(code: str) -> list[str]:
    keep = []
    for line in code.splitlines()[1:]:
        if line.startswith(("from ", "import ", "# ")) or not line.strip():
            continue
        keep.append(line)
    return keep


def _check_reference(namespace: dict, item: str) -> None:
    from tests.torch.test_gradcam_shapes import pgc_reference
    from whylens.torch import vit_reshape_transform

    call, var = (s.strip() for s in item.split("="))
    method, args = call.split("(", 1)
    parts = [p.strip() for p in re.split(r",\s*(?![^\[]*\])", args.rstrip(")"))]
    values = [eval(p, namespace) for p in parts[:4]]
    reshape = vit_reshape_transform if len(parts) > 4 else None
    expected = pgc_reference(method, *values, reshape_transform=reshape)
    got = namespace[var]
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
