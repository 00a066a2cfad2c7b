"""The methods a whole-dataset job runs, by the names ``Explanation.method`` uses.

Each method is built once per job (in the driver, from the job's seed) into a
:class:`Work`: the explainer and the call's settings, pickled to every worker.
:func:`explain_chunk` explains one chunk of rows with a seed derived from the
job's seed and the chunk's row range (LIME: one seed per row, from its own range),
so the values do not depend on which worker runs a chunk, on the engine, or on
the order the chunks run in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from whylens.batch._store import value_column
from whylens.batch._torch_methods import (
    TORCH_OPTIONS,
    build_torch,
    check_torch_params,
    torch_chunk,
)
from whylens.errors import InputError, describe

__all__ = ["METHODS", "MethodSpec", "Work", "build_work", "check_params", "chunk_seed",
           "explain_chunk"]

#: Options of the game-based SHAP explainers besides their own (``background`` is taken
#: by every tabular method: rows sampled from the data with the seed, or a table).
_GAME = ("batch_size",)
_LIME_CALL = ("num_samples", "num_features", "distance_metric", "batch_size")


@dataclass(frozen=True)
class MethodSpec:
    """What a method accepts.

    Attributes
    ----------
    name : str
        ``Explanation.method``.
    options : tuple of str
        The explainer's parameters a job may set (``background`` besides).
    background : int or None
        Background rows sampled from the data by default (None: none needed).
    seeded : bool
        Whether the method draws random numbers (gets a seed per chunk).
    kind : {"tabular", "text", "torch"}
        Numeric columns, one text column (a document per row), or a tensor
        file / image folder (a torch model's input per row).
    """

    name: str
    options: tuple[str, ...]
    background: int | None
    seeded: bool
    doc: str = ""
    kind: str = "tabular"


METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in (
    MethodSpec("shap.kernel", ("nsamples", "l1_reg", "size_weights", *_GAME), 100, True,
               "Kernel SHAP (whylens.shap.KernelExplainer)"),
    MethodSpec("shap.permutation", ("max_evals", "sampling", *_GAME), 100, True,
               "Permutation SHAP (whylens.shap.PermutationExplainer)"),
    MethodSpec("shap.exact", ("max_features", *_GAME), 100, False,
               "exact Shapley values (whylens.shap.ExactExplainer)"),
    MethodSpec("shap.linear", ("feature_perturbation", "nsamples"), 1000, False,
               "linear SHAP in closed form (whylens.shap.LinearExplainer)"),
    MethodSpec("shap.tree", ("feature_perturbation", "model_output", "check_additivity",
                             "n_jobs"), None, False,
               "TreeSHAP (whylens.shap.TreeExplainer); path-dependent unless background="),
    MethodSpec("lime.tabular", ("mode", "kernel_width", "feature_selection",
                                "discretize_continuous", "discretizer",
                                "sample_around_instance", "categorical_features",
                                *_LIME_CALL), 1000, True,
               "LIME on tables (whylens.lime.LimeTabularExplainer)"),
    MethodSpec("lime.text", ("text_column", "kernel_width", "feature_selection",
                             "split_expression", "bow", "mask_string", "char_level",
                             *_LIME_CALL), None, True,
               "LIME on one text column (whylens.lime.LimeTextExplainer)", kind="text"),
    *(MethodSpec(name, options, None, False, f"{name} over a tensor file or an image folder "
                 "(whylens.torch)", kind="torch") for name, options in TORCH_OPTIONS.items()),
)}

#: Methods Explanation.method names that whole-dataset jobs do not run yet.
NOT_YET = ("lime.image", "the torch methods other than gradient CAMs, Integrated "
           "Gradients and saliency")


def check_params(method: Any, params: Mapping[str, Any] | None) -> tuple[MethodSpec, dict]:
    """Return the method's spec and the parameters, every name checked.

    Raises
    ------
    InputError
        An unknown method, or a parameter the method does not take.
    """
    spec = METHODS.get(method) if isinstance(method, str) else None
    if spec is None:
        hint = f" ({', '.join(NOT_YET)} are not offered for whole datasets yet.)" \
            if method == "lime.image" or str(method).startswith("torch") else ""
        raise InputError(describe("method", f"one of {sorted(METHODS)}", method,
                                  f"Pick a method by its Explanation.method name.{hint}"))
    params = dict(params or {})
    known = ("background", *spec.options)
    unknown = sorted(str(k) for k in params if k not in known)
    if unknown:
        raise InputError(describe("params", f"parameters of {spec.name}: {sorted(known)}",
                                  got_text=f"unknown parameter(s) {unknown}",
                                  fix="Check the spelling (--param key=value)."))
    if spec.kind == "torch":
        check_torch_params(spec.name, params)
    elif spec.kind == "text" and params.get("background") is not None:
        raise InputError(describe("params", f"no background for {spec.name}",
                                  params["background"]))
    params.setdefault("background", spec.background)
    return spec, params


def chunk_seed(seed: int, start: int, stop: int) -> int:
    """The seed of the chunk of rows ``[start, stop)``: a function of the three numbers only."""
    state = np.random.SeedSequence([int(seed), int(start), int(stop)]).generate_state(
        2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


@dataclass
class Work:
    """A method built for one job, sent once to every worker.

    Attributes
    ----------
    method : str
    explainer : object
        The whylens explainer.
    call : dict
        Settings of each call (LIME: samples, features, labels).
    frame_columns : list of str or None
        Column names when the model wants a DataFrame (it was fitted on one).
    features : list of str
    labels : list of str
        Names of the explained outputs (filled by the probe).
    outputs : list of str
        Names of the model's outputs (filled by the probe).
    """

    method: str
    explainer: Any
    call: dict[str, Any] = field(default_factory=dict)
    frame_columns: list[str] | None = None
    features: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    seeded: bool = False
    kind: str = "tabular"
    map_shape: list[int] | None = None
    layer: str | None = None

    def layout(self, labels: list[str], outputs: list[str]) -> dict[str, Any]:
        """The part files' column layout (recorded in the manifest)."""
        out = {"kind": self.kind, "features": list(self.features), "labels": list(labels),
               "outputs": list(outputs)}
        if self.kind == "torch":  # the shape of each row's flattened map, and the CAM's layer
            out.update(map_shape=self.map_shape, layer=self.layer)
        return out

    def rows(self, X: np.ndarray) -> Any:
        """The rows as the model wants them (a DataFrame when it was fitted on one)."""
        if self.frame_columns is None:
            return X
        import pandas as pd

        return pd.DataFrame(X, columns=self.frame_columns)


def build_work(spec: MethodSpec, params: dict[str, Any], model: Any, background: Any,
               features: list[str], frame_columns: list[str] | None, seed: int) -> Work:
    """Build the method's explainer once for the job.

    Parameters
    ----------
    spec, params
        From :func:`check_params` (``background`` removed or not: it is ignored here).
    model : object
        The user's model.
    background : ndarray of shape (n_background, n_features) or None
    features : list of str
        The table's columns, in the model's order.
    frame_columns : list of str or None
        Set when the model wants DataFrames.
    seed : int
        The job's seed (LIME's discretizer, linear SHAP's sampled transform).

    Returns
    -------
    Work

    Raises
    ------
    InputError, InputTypeError
        A bad parameter value (the explainer's own checks).
    """
    options = {k: v for k, v in params.items() if k not in ("background", "text_column")}
    work = Work(method=spec.name, explainer=None, frame_columns=frame_columns,
                features=list(features), seeded=spec.seeded, kind=spec.kind)
    if spec.kind == "torch":
        work.explainer = build_torch(spec.name, options, model)
        work.call = {"target": options.get("target")}
        return work
    bg = None if background is None else work.rows(background)
    if spec.name in ("shap.kernel", "shap.permutation", "shap.exact"):
        from whylens.shap import ExactExplainer, KernelExplainer, PermutationExplainer

        cls = {"shap.kernel": KernelExplainer, "shap.permutation": PermutationExplainer,
               "shap.exact": ExactExplainer}[spec.name]
        _need_background(spec, bg)
        work.explainer = cls(model, bg, feature_names=features, random_state=seed, **options)
    elif spec.name == "shap.linear":
        from whylens.shap import LinearExplainer

        _need_background(spec, bg)
        work.explainer = LinearExplainer(model, bg, feature_names=features, random_state=seed,
                                         **options)
    elif spec.name == "shap.tree":
        from whylens.shap import TreeExplainer

        options.setdefault("n_jobs", 1)  # one thread per worker
        work.explainer = TreeExplainer(model, bg, feature_names=features, **options)
    elif spec.name == "lime.text":
        from whylens.lime import LimeTextExplainer
        from whylens.models import as_model

        call = {k: options.pop(k) for k in _LIME_CALL if k in options}
        work.explainer = LimeTextExplainer(random_state=seed, **options)
        wrapped = as_model(model, chunk_size=call.pop("batch_size", None))
        n_outputs = wrapped(["a"]).shape[1]
        call["labels"] = tuple(range(n_outputs))
        call["model"] = wrapped
        work.call = call
    else:  # lime.tabular
        from whylens.lime import LimeTabularExplainer
        from whylens.models import as_model

        _need_background(spec, bg)
        call = {k: options.pop(k) for k in _LIME_CALL if k in options}
        mode = options.setdefault(
            "mode", "classification" if hasattr(model, "predict_proba") else "regression")
        work.explainer = LimeTabularExplainer(bg, feature_names=features, random_state=seed,
                                              **options)
        wrapped = as_model(model, output="probability" if mode == "classification" else "auto",
                           chunk_size=call.pop("batch_size", None))
        n_outputs = wrapped(work.rows(background[:1])).shape[1]
        call.setdefault("num_features", len(features))
        call["labels"] = tuple(range(n_outputs)) if mode == "classification" else (0,)
        call["model"] = wrapped
        work.call = call
    return work


def _need_background(spec: MethodSpec, background: Any) -> None:
    if background is None:
        raise InputError(describe("background", f"rows for {spec.name} (a number of rows "
                                  "sampled from the data, or a table path)", None,
                                  f"Pass --param background={spec.background or 100}."))


def explain_chunk(work: Work, X: np.ndarray, start: int, stop: int, seed: int
                  ) -> tuple[dict[str, Any], list[str], list[str]]:
    """Explain the rows ``X`` (rows ``[start, stop)`` of the table).

    Returns
    -------
    columns : dict
        The part's columns: ``row``; ``value:<label>:<feature>`` (tables) or
        ``tokens`` and ``value:<label>`` lists (text); ``base_value:<label>``;
        ``output:<output>``.
    labels : list of str
        Names of the explained outputs.
    outputs : list of str
        Names of the model's outputs.
    """
    explainer = work.explainer
    if work.kind == "torch":
        return torch_chunk(work, X, start)
    if work.method.startswith("lime."):
        return _lime_chunk(work, X, start, seed)
    if work.seeded:
        explainer = copy.copy(explainer)
        explainer.random_state = chunk_seed(seed, start, stop)
    exp = explainer(work.rows(X), progress=False)
    labels, outputs = _label_names(exp), _output_names(exp, exp.output.shape[1])
    return _columns(work, start, exp.values, exp.base_values, exp.output, labels, outputs), \
        labels, outputs


def _columns(work: Work, start: int, values: Any, base: np.ndarray, output: np.ndarray,
             labels: list[str], outputs: list[str]) -> dict[str, Any]:
    """A part's columns from values (n, n_labels, n_features), or per-row token lists."""
    n = base.shape[0]
    columns: dict[str, Any] = {"row": np.arange(start, start + n, dtype=np.int64)}
    if work.kind == "text":
        tokens, per_row = values
        columns["tokens"] = tokens
        for i, label in enumerate(labels):
            columns[f"value:{label}"] = [v[i] for v in per_row]
    else:
        for i, label in enumerate(labels):
            for j, feature in enumerate(work.features):
                columns[value_column(label, feature)] = np.ascontiguousarray(values[:, i, j])
    for i, label in enumerate(labels):
        columns[f"base_value:{label}"] = np.ascontiguousarray(base[:, i])
    for i, name in enumerate(outputs):
        columns[f"output:{name}"] = np.ascontiguousarray(output[:, i])
    return columns


def _lime_chunk(work: Work, X: np.ndarray, start: int, seed: int
                ) -> tuple[dict[str, Any], list[str], list[str]]:
    call = dict(work.call)
    model = call.pop("model")
    n = X.shape[0]
    # One seed per row, from the job's seed and the row's range [row, row + 1): the
    # values do not even depend on the chunk size.
    row_seeds = [chunk_seed(seed, start + i, start + i + 1) for i in range(n)]
    explainer = copy.copy(work.explainer)
    values: Any = None
    tokens: list[list[str]] = []
    per_row: list[list[list[float]]] = []
    base = output = None
    exp = None
    empty = []
    for i in range(n):
        if work.kind == "text" and not explainer.tokenize(X[i, 0]):
            empty.append(i)  # no words to remove: empty lists, base value = output
            continue
        explainer.random_state = int(row_seeds[i])
        exp = explainer.explain_instance(X[i, 0] if work.kind == "text" else X[i], model,
                                         progress=False, **call)
        if base is None:
            base = np.empty((n, exp.base_values.shape[1]))
            output = np.empty((n, exp.output.shape[1]))
            if work.kind != "text":
                values = np.empty((n, *exp.values.shape[1:]))
        if work.kind == "text":
            tokens.append([str(t) for t in exp.features.names])
            per_row.append(exp.values[0].tolist())
        else:
            values[i] = exp.values[0]
        base[i] = exp.base_values[0]
        output[i] = exp.output[0]
    if exp is None:  # every document of the chunk is empty: names as the model gives them
        k = model([""]).shape[1]
        names = [str(o) for o in model.output_names] if model.output_names is not None \
            and len(model.output_names) == k else [str(i) for i in range(k)]
        outputs = list(work.outputs) or names
        labels = list(work.labels) or [names[i] for i in call["labels"]]
        base, output = np.empty((n, len(labels))), np.empty((n, len(outputs)))
    else:
        labels, outputs = _label_names(exp), _output_names(exp, output.shape[1])
    if work.kind == "text":
        if empty:
            out = model([X[i, 0] for i in empty])
            for i, row in zip(empty, out, strict=True):
                tokens.insert(i, [])
                per_row.insert(i, [[] for _ in labels])
                picked = row[list(call["labels"])]
                base[i], output[i] = picked, row
        values = (tokens, per_row)
    return _columns(work, start, values, base, output, labels, outputs), labels, outputs


def _output_names(exp: Any, k: int) -> list[str]:
    names = exp.output_names
    return [str(n) for n in names] if names is not None and len(names) == k \
        else [str(i) for i in range(k)]


def _label_names(exp: Any) -> list[str]:
    labels = np.asarray(exp.labels)
    if labels.ndim != 1:
        raise InputError(describe("labels", "the same explained outputs for every row",
                                  got_text="a label per row"))
    names = _output_names(exp, exp.output.shape[1])
    return [names[int(label)] if 0 <= int(label) < len(names) else str(int(label))
            for label in labels]
