"""What the sections of ``whylens demo`` get and return, and the files they share.

:class:`DemoContext` is what every section builder gets; a builder returns a
:class:`SectionResult` of :class:`InstanceResult`; :func:`whylens.demo.run_demo`
returns a :class:`DemoResult`. The sections import this module and
:mod:`whylens.demo._run` imports the sections, so nothing imports back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens.demo._data import Split
from whylens.explanation import Explanation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CHART_DPI",
    "TEXT_MIN_WORDS",
    "DemoContext",
    "DemoResult",
    "InstanceResult",
    "SectionBuilder",
    "SectionResult",
    "TrainedModel",
    "accuracy",
    "instance_result",
    "long_documents",
    "save_figure",
]

#: Resolution of the PNG charts the sections write.
CHART_DPI = 110
#: Reviews shorter than this many words make dull explanations; the text sections skip them.
TEXT_MIN_WORDS = 8


# ---------------------------------------------------------------- results
@dataclass
class InstanceResult:
    """One explained instance of the demo and the files written for it.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"tabular_0"``.
    title : str
        Heading on the page, e.g. ``"Test row 12"``.
    explanation : Explanation
    label : int
        The class the chart and the top features are about.
    true_class, predicted_class : str
    probability : float
        Model probability of the predicted class.
    top_features : list of (str, float)
        The three features with the largest absolute weight for ``label``.
    seconds : float
        Wall time of the explanation.
    png, json : Path
        Bar chart and ``to_json()`` of the explanation.
    fragment : str
        HTML of the explanation (``explanation_html(exp, standalone=False)``).
    """

    name: str
    title: str
    explanation: Explanation
    label: int
    true_class: str
    predicted_class: str
    probability: float
    top_features: list[tuple[str, float]]
    seconds: float
    png: Path
    json: Path
    fragment: str = ""

    def summary(self) -> dict[str, Any]:
        """Return a JSON-compatible summary (no explanation arrays).

        Returns
        -------
        dict
        """
        return {
            "name": self.name,
            "title": self.title,
            "label": self.label,
            "true_class": self.true_class,
            "predicted_class": self.predicted_class,
            "probability": self.probability,
            "top_features": [[n, w] for n, w in self.top_features],
            "seconds": self.seconds,
            "png": self.png.name,
            "json": f"{self.json.parent.name}/{self.json.name}",
        }


@dataclass
class SectionResult:
    """What one section builder did: data, model, accuracy, explanations.

    Attributes
    ----------
    name : str
        Key of the section, e.g. ``"tabular"``; used in file names.
    title : str
        Heading on the page.
    data, source : str
        Data set and where it came from.
    model : str
        The trained model, in words.
    method : str
        The explainer and its parameters, in words.
    output_names : list of str
        Names of the model's outputs (the classes), as ``Explanation.output_names``.
    n_train, n_test : int
    accuracy : float
        Test accuracy of the model.
    train_seconds, explain_seconds : float
    instances : list of InstanceResult
    fragment : str
        HTML about the section as a whole (charts over many instances), shown
        on ``index.html`` under the section's heading, before its instances.
    """

    name: str
    title: str
    data: str
    source: str
    model: str
    method: str
    output_names: list[str]
    n_train: int
    n_test: int
    accuracy: float
    train_seconds: float
    explain_seconds: float
    instances: list[InstanceResult] = field(default_factory=list)
    fragment: str = ""

    @property
    def class_names(self) -> list[str]:
        """Alias of :attr:`output_names` (lime's name for them)."""
        return self.output_names

    def summary(self) -> dict[str, Any]:
        """Return a JSON-compatible summary of the section.

        Returns
        -------
        dict
        """
        return {
            "title": self.title,
            "data": self.data,
            "source": self.source,
            "model": self.model,
            "method": self.method,
            "output_names": list(self.output_names),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "accuracy": self.accuracy,
            "train_seconds": self.train_seconds,
            "explain_seconds": self.explain_seconds,
            "instances": [inst.summary() for inst in self.instances],
        }


@dataclass
class DemoResult:
    """Everything :func:`run_demo` wrote, with a short summary.

    Attributes
    ----------
    out_dir : Path
    index_html : Path
        The page to open in a browser.
    summary_json : Path
        :attr:`summary` as JSON.
    sections : list of SectionResult
    num_samples, seed : int
    quick : bool
    seconds : float
        Wall time of the whole demo.
    """

    out_dir: Path
    index_html: Path
    summary_json: Path
    sections: list[SectionResult]
    num_samples: int
    seed: int
    quick: bool
    seconds: float

    @property
    def files(self) -> list[Path]:
        """Every file written: the page, the summary, charts and JSON."""
        out = [self.index_html, self.summary_json]
        for section in self.sections:
            for inst in section.instances:
                out += [inst.png, inst.json]
        return out

    @property
    def explanations(self) -> dict[str, Explanation]:
        """The explanations by file stem, e.g. ``{"tabular_0": exp, ...}``."""
        return {inst.name: inst.explanation
                for section in self.sections for inst in section.instances}

    @property
    def summary(self) -> dict[str, dict[str, Any]]:
        """Per-section summary: ``summary["tabular"]["accuracy"]`` and so on."""
        return {section.name: section.summary() for section in self.sections}


# ---------------------------------------------------------------- context
@dataclass
class DemoContext:
    """What every section builder gets.

    Attributes
    ----------
    out_dir : Path
        Where to write files (exists).
    num_samples : int
        LIME samples per explanation.
    seed : int
        Seed of splits, models and explainers.
    quick : bool
        Explain one instance per section instead of three.
    progress : bool or None
        Progress bars of the explainers (None: when stderr is a terminal).
    on_step : callable, optional
        ``on_step(message)`` at each stage (the CLI prints it).
    """

    out_dir: Path
    num_samples: int
    seed: int
    quick: bool
    progress: bool | None = None
    on_step: Callable[[str], Any] | None = None
    #: Models trained by one section and reused by another (see
    #: :func:`whylens.demo._models.forest_model`).
    models: dict[str, TrainedModel] = field(default_factory=dict)

    @property
    def n_instances(self) -> int:
        """Instances explained per section: 1 when quick, else 3."""
        return 1 if self.quick else 3

    def step(self, message: str) -> None:
        """Report a stage to ``on_step`` (if any)."""
        if self.on_step is not None:
            self.on_step(message)


SectionBuilder = Callable[[DemoContext], SectionResult]


@dataclass
class TrainedModel:
    """A demo model with its data split, training time and test accuracy.

    Attributes
    ----------
    split : Split
    model : object
        The fitted scikit-learn estimator or pipeline.
    train_seconds, accuracy : float
    data, description : str
        The data set and the model, in words (the page's columns).
    """

    split: Split
    model: Any
    train_seconds: float
    accuracy: float
    data: str
    description: str

    def section(self, name: str, title: str, method: str, explain_seconds: float,
                instances: list[InstanceResult], fragment: str = "") -> SectionResult:
        """Return the :class:`SectionResult` of a section that explained this model.

        Parameters
        ----------
        name, title : str
        method : str
            The explainer and its parameters, in words.
        explain_seconds : float
        instances : list of InstanceResult
        fragment : str, optional
            HTML about the whole section, shown before its instances.

        Returns
        -------
        SectionResult
        """
        split = self.split
        return SectionResult(
            name=name, title=title, data=self.data, source=split.source,
            model=self.description, method=method, output_names=list(split.class_names),
            n_train=len(split.X_train), n_test=len(split.X_test), accuracy=self.accuracy,
            train_seconds=self.train_seconds, explain_seconds=explain_seconds,
            instances=instances, fragment=fragment,
        )


# ---------------------------------------------------------------- helpers
def save_figure(fig: Figure, path: Path, dpi: int = CHART_DPI) -> str:
    """Write ``fig`` as a PNG to ``path`` and release it.

    Returns
    -------
    str
        The file name (``path.name``), for links on the page.
    """
    try:
        fig.savefig(path, dpi=dpi)
    finally:
        if "matplotlib.pyplot" in sys.modules:  # release pyplot's reference, if any
            sys.modules["matplotlib.pyplot"].close(fig)
    return path.name


def instance_result(
    ctx: DemoContext, name: str, title: str, exp: Explanation, label: int, true_class: str,
    seconds: float, png: Path, fragment: str,
) -> InstanceResult:
    """Write ``explanations/<name>.json`` and describe one explained instance.

    Parameters
    ----------
    ctx : DemoContext
    name : str
        File stem, e.g. ``"tabular_0"``.
    title : str
    exp : Explanation
        A single-instance explanation with the model's ``output``.
    label : int
        The class the chart and the top features are about.
    true_class : str
    seconds : float
    png : Path
        The chart already written for it.
    fragment : str
        Its HTML on the page.

    Returns
    -------
    InstanceResult
        The predicted class (named from ``exp.output_names``), its probability
        and the three strongest features for ``label``.
    """
    proba = np.asarray(exp.output[0], dtype=np.float64)
    predicted = int(np.argmax(proba))
    json_path = ctx.out_dir / "explanations" / f"{name}.json"
    json_path.write_text(exp.to_json(), encoding="utf-8")
    return InstanceResult(
        name=name, title=title, explanation=exp, label=label, true_class=true_class,
        predicted_class=exp.output_name(predicted), probability=float(proba[predicted]),
        top_features=exp.as_list(label=label)[:3], seconds=seconds, png=png, json=json_path,
        fragment=fragment,
    )


def long_documents(documents: list[str], n: int | None = None) -> list[int]:
    """Indices of the documents with at least :data:`TEXT_MIN_WORDS` words, the first ``n``.

    Returns
    -------
    list of int
    """
    chosen = [j for j, doc in enumerate(documents) if len(doc.split()) >= TEXT_MIN_WORDS]
    return chosen if n is None else chosen[:n]


def accuracy(model: Any, X: Any, y: np.ndarray) -> float:
    """Fraction of ``model.predict(X)`` equal to ``y``.

    Returns
    -------
    float
    """
    return float(np.mean(np.asarray(model.predict(X)) == y))
