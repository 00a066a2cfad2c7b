"""The report of ``whylens demo``: ``index.html`` and the terminal summary.

Both read only the :class:`~whylens.demo._report.DemoResult` the sections
produced; nothing here trains or explains.
"""

from __future__ import annotations

import html
import sys

import numpy as np

from whylens.demo._report import DemoResult, InstanceResult, SectionResult

__all__ = ["format_summary", "index_page"]

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


def _format_seconds(seconds: float) -> str:
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
            f"<td>train {_format_seconds(s.train_seconds)}<br>"
            f"explain {_format_seconds(s.explain_seconds)} "
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
        f"{_format_seconds(result.seconds)}. {e(env)}. Each explanation is also saved as JSON in "
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
    label_name = section.output_names[inst.label]
    what = "SHAP values" if exp.method.startswith("shap") else "LIME weights"
    return (
        f"<div class='wl-demo-instance' id='{e(inst.name)}'>"
        f"<h2>{e(section.title)} — {e(inst.title)}</h2>"
        f"<p class='wl-demo-meta'>True class <b>{e(inst.true_class)}</b>; predicted "
        f"<b>{e(inst.predicted_class)}</b> (p = {inst.probability:.3f}); {what} explain "
        f"<b>{e(label_name)}</b>{score}; {exp.n_evals} model evaluations in "
        f"{_format_seconds(inst.seconds)}.</p>"
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


def index_page(result: DemoResult) -> str:
    """Return ``index.html``: the header table, then each section's own charts and every
    instance's fragment and chart.

    Returns
    -------
    str
        A standalone page (relative links only).
    """
    from whylens.render.html import page

    fragments = []
    for s in result.sections:
        if s.fragment:  # the section's own charts, once, before its instances
            fragments.append(f"<div class='wl-demo-section' id='{html.escape(s.name)}'>"
                             f"<h2>{html.escape(s.title)}</h2>{s.fragment}</div>")
        fragments.extend(_instance_html(s, inst) for inst in s.instances)
    return page("whylens demo", [_header_html(result, _versions()), *fragments])


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
                     f"{_format_seconds(s.train_seconds)})")
        for inst in s.instances:
            label_name = s.output_names[inst.label]
            lines.append(f"  {inst.title}: true {inst.true_class}, predicted "
                         f"{inst.predicted_class} (p={inst.probability:.3f}); "
                         f"top features for {label_name} ({_format_seconds(inst.seconds)}):")
            for feature, weight in inst.top_features:
                lines.append(f"      {weight:+.4f}  {feature}")
    lines.append(f"LIME: {result.num_samples} samples per explanation, seed {result.seed}"
                 f"{' (quick)' if result.quick else ''}")
    lines.append(f"Total time: {_format_seconds(result.seconds)}")
    lines.append(f"Open: {result.index_html.resolve()}")
    return "\n".join(lines)
