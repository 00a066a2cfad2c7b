"""The methods a whole-dataset job runs, by the names ``Explanation.method`` uses.

Each method is built once per job (in the driver, from the job's seed) into a
:class:`Work`: the explainer and the call's settings, pickled to every worker.
:func:`explain_chunk` explains one chunk of rows with a seed derived from the
job's seed and the chunk's row range (LIME: one seed per row, from the chunk's),
so the values do not depend on which worker runs a chunk, on the engine, or on
the order the chunks run in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from whylens.errors import InputError, describe

__all__ = ["METHODS", "MethodSpec", "Work", "build_work", "check_params", "chunk_seed",
           "explain_chunk"]

#: Parameters every method takes: the background (rows sampled from the data with the
#: seed, or a table path) and nothing else.
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
    """

    name: str
    options: tuple[str, ...]
    background: int | None
    seeded: bool
    doc: str = ""


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
)}

#: Methods Explanation.method names that whole-dataset jobs do not run yet.
NOT_YET = ("lime.text", "lime.image", "torch methods (tensor files, image folders)")


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
            if method in ("lime.text", "lime.image") else ""
        raise InputError(describe("method", f"one of {sorted(METHODS)}", method,
                                  f"Pick a method by its Explanation.method name.{hint}"))
    params = dict(params or {})
    known = ("background", *spec.options)
    unknown = sorted(str(k) for k in params if k not in known)
    if unknown:
        raise InputError(describe("params", f"parameters of {spec.name}: {sorted(known)}",
                                  got_text=f"unknown parameter(s) {unknown}",
                                  fix="Check the spelling (--param key=value)."))
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
    options = {k: v for k, v in params.items() if k != "background"}
    work = Work(method=spec.name, explainer=None, frame_columns=frame_columns,
                features=list(features), seeded=spec.seeded)
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
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """Explain the rows ``X`` (rows ``[start, stop)`` of the table).

    Returns
    -------
    values : ndarray of shape (n, n_labels, n_features)
    base_values : ndarray of shape (n, n_labels)
    output : ndarray of shape (n, n_outputs)
    labels : list of str
        Names of the explained outputs.
    outputs : list of str
        Names of the model's outputs.
    """
    explainer = work.explainer
    rows = work.rows(X)
    if work.method == "lime.tabular":
        return _lime_chunk(work, X, chunk_seed(seed, start, stop))
    if work.seeded:
        explainer = copy.copy(explainer)
        explainer.random_state = chunk_seed(seed, start, stop)
    exp = explainer(rows, progress=False)
    return (exp.values, exp.base_values, exp.output, _label_names(exp),
            _output_names(exp, exp.output.shape[1]))


def _lime_chunk(work: Work, X: np.ndarray, seed: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    call = dict(work.call)
    model = call.pop("model")
    row_seeds = np.random.SeedSequence(seed).generate_state(X.shape[0], dtype=np.uint32)
    explainer = copy.copy(work.explainer)
    values = base = output = None
    exp = None
    for i in range(X.shape[0]):
        explainer.random_state = int(row_seeds[i])
        exp = explainer.explain_instance(X[i], model, progress=False, **call)
        if values is None:
            values = np.empty((X.shape[0], *exp.values.shape[1:]))
            base = np.empty((X.shape[0], exp.base_values.shape[1]))
            output = np.empty((X.shape[0], exp.output.shape[1]))
        values[i] = exp.values[0]
        base[i] = exp.base_values[0]
        output[i] = exp.output[0]
    return values, base, output, _label_names(exp), _output_names(exp, output.shape[1])


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
