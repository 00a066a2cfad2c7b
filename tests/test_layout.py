"""The package's layout: every module imports, no whylens modules import each other, none is long.

The import graph is read from the source (``ast``): every ``import`` and
``from ... import`` statement of ``src/whylens``, the ones inside functions
included, since a function-level import that closes a cycle only moves the
failure to the first call. Imports under ``if TYPE_CHECKING:`` are left out:
they never run (annotations only).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable
from pathlib import Path

import pytest

import whylens

ROOT = Path(whylens.__file__).parent

#: Cycles allowed while they are being removed: a cycle is allowed only inside
#: one of these module sets (a new one, or one that grows, fails). None is left.
KNOWN_CYCLES: dict[str, frozenset[str]] = {}

#: Most lines a module may have (issue 15: "no module over ~500 lines unless it is one
#: algorithm"); a longer one is split, or named in LONG_MODULES with the algorithm it holds.
MAX_LINES = 500
#: Modules allowed past MAX_LINES because they hold one algorithm. None is, today.
LONG_MODULES: dict[str, str] = {}

#: Parts of whylens that must be in no cycle at all.
ACYCLIC = ("whylens.explanation", "whylens._views", "whylens._serialize", "whylens.demo",
           "whylens.render", "whylens.plot", "whylens.cli")


def module_files(root: Path = ROOT, package: str = "whylens") -> dict[str, tuple[Path, bool]]:
    """``{module name: (path, is_package)}`` of every ``.py`` file under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names imported anywhere in ``source`` (``from a import b`` gives ``a.b`` only).

    Relative imports are resolved against ``module``; ``if TYPE_CHECKING:``
    bodies are skipped (their ``else`` branches are not).
    """
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit_node(other)
                continue
            visit_node(child)

    def visit_node(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            names.update(f"{base}.{alias.name}" for alias in node.names)
        visit(node)

    visit(ast.parse(source))
    return names


def import_graph(files: dict[str, tuple[Path, bool]]) -> dict[str, set[str]]:
    """``{module: modules of the same tree it imports}``.

    An imported name points at the closest module that holds it: ``from a
    import b`` at module ``a.b`` when there is one, else at ``a``. The parent
    packages Python initialises on the way are not edges (every submodule
    would form a cycle with its package's ``__init__``).
    """
    graph = {}
    for name, (path, is_package) in files.items():
        targets = set()
        for target in imported_names(path.read_text(encoding="utf-8"), name, is_package):
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, Iterable[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


FILES = module_files()
GRAPH = import_graph(FILES)


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_module_imports(name):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an optional dependency (torch, numba, ...)
        if exc.name is None or exc.name.split(".")[0] == "whylens":
            raise
        pytest.skip(f"{name} needs {exc.name}")


def test_no_import_cycle_among_whylens_modules():
    unknown = [c for c in cycles(GRAPH)
               if not any(c <= known for known in KNOWN_CYCLES.values())]
    described = [
        sorted(f"{a} -> {b}" for a in c for b in GRAPH[a] if b in c) for c in unknown
    ]
    assert not unknown, f"import cycles: {described}"


def test_the_result_type_and_the_rendering_are_in_no_cycle():
    touched = [c for c in cycles(GRAPH) if any(m.startswith(ACYCLIC) for m in c)]
    assert not touched


def test_explanation_imports_no_representation():
    """explanation.py, and everything it imports in turn, never reaches representations."""
    assert not {m for m in GRAPH["whylens.explanation"]
                if m.startswith("whylens.representations")}
    seen, todo = set(), ["whylens.explanation"]
    while todo:
        for target in GRAPH[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    assert not {m for m in seen if m.startswith(("whylens.representations", "whylens.lime",
                                                 "whylens.shap", "whylens.torch"))}


def test_no_module_is_longer_than_max_lines_unless_it_is_one_algorithm():
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines())
               for name, (path, _) in FILES.items()}
    long = {name: n for name, n in lengths.items() if n > MAX_LINES and name not in LONG_MODULES}
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"
    assert set(LONG_MODULES) <= set(lengths), "LONG_MODULES names a module that is gone"


# ------------------------------------------------------------- the checker itself
def test_imports_inside_functions_count_and_type_checking_ones_do_not():
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from .. import errors\n"
        "if TYPE_CHECKING:\n"
        "    from whylens.explanation import Explanation\n"
        "else:\n"
        "    import whylens.text\n"
        "def f():\n"
        "    class A:\n"
        "        def g(self):\n"
        "            from whylens.render.html import page\n"
    )
    names = imported_names(source, "whylens.demo._run", is_package=False)
    assert {"whylens.demo.sibling", "whylens.errors", "whylens.text",
            "whylens.render.html.page"} <= names
    assert not any(n.startswith("whylens.explanation") for n in names)


def test_cycle_finder_on_known_graphs(tmp_path):
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        frozenset({"a", "b", "c"})]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    assert sorted(map(sorted, cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}))) == [
        ["a", "b"], ["c", "d"]]
    # a function-level import back closes a cycle in a real tree of files
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import x\n")
    (pkg / "b.py").write_text("x = 1\ndef f():\n    from pkg import a\n")
    (pkg / "c.py").write_text("from pkg import b\nfrom typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from pkg.a import y\n")
    graph = import_graph(module_files(pkg, "pkg"))
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}, "pkg.c": {"pkg.b"}}
    assert cycles(graph) == [frozenset({"pkg.a", "pkg.b"})]
