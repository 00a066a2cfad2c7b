"""TreeExplainer's inputs: its options, the rows (by the model's columns) and the labels."""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe
from whylens.models._frames import is_dataframe
from whylens.representations.masking import check_rows
from whylens.shap._tree_models import FlatEnsemble

__all__ = ["OUTPUTS", "PERTURBATIONS", "as_table", "check_labels", "check_options", "frame_columns"]

PERTURBATIONS = ("tree_path_dependent", "interventional")
OUTPUTS = ("raw", "probability", "log_loss")


def check_options(feature_perturbation: str | None, model_output: str, n_jobs: Any,
                  data: Any) -> str:
    """Check TreeExplainer's options; return ``feature_perturbation`` with its default applied.

    Raises
    ------
    InputError
        An unknown ``feature_perturbation`` or ``model_output``, or a bad ``n_jobs``.
    """
    if feature_perturbation is None:
        feature_perturbation = "tree_path_dependent" if data is None else "interventional"
    if feature_perturbation not in PERTURBATIONS:
        raise InputError(describe("feature_perturbation", f"one of {PERTURBATIONS}",
                                  feature_perturbation))
    if model_output not in OUTPUTS:
        raise InputError(describe("model_output", f"one of {OUTPUTS}", model_output))
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or (n_jobs < 1 and n_jobs != -1)):
        raise InputError(describe("n_jobs", "None, -1 or an int >= 1", n_jobs))
    return feature_perturbation


def frame_columns(X: Any, names: list[str] | None, argument: str) -> Any:
    """A DataFrame's columns in the model's order (by name), or ``X`` unchanged.

    Raises
    ------
    InputError
        When the DataFrame lacks some of the model's columns.
    """
    if not is_dataframe(X) or names is None:
        return X
    by_name = {str(c): c for c in X.columns}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise InputError(describe(argument, f"the model's columns {names[:10]}",
                                  got_text=f"a DataFrame without {missing[:5]}",
                                  fix="Pass rows with the columns the model was fitted on."))
    return X[[by_name[n] for n in names]]


def as_table(X: Any, d: int, argument: str) -> tuple[np.ndarray, bool]:
    """Rows as float64 (n, d) with NaN allowed (routed by the trees), and whether one came."""
    return check_rows(X, d, argument, allow_nan=True, what="the model's")


def check_labels(y: Any, n: int, ensemble: FlatEnsemble, model: Any) -> np.ndarray:
    """``y`` as float (n,): 0/1 for a classifier (1 = the second class), else the target.

    Raises
    ------
    InputError
        No ``y``, not one label per row, or labels that are not the model's classes.
    InputTypeError
        Non-numeric targets for a regressor.
    """
    if y is None:
        raise InputError(
            describe("y", "the labels of X's rows for model_output='log_loss'", None,
                     "Call explainer(X, y) or shap_values(X, y).")
        )
    arr = np.asarray(y).reshape(-1)
    if arr.shape[0] != n:
        raise InputError(describe("y", f"{n} labels, one per row of X",
                                  got_text=f"{arr.shape[0]} labels"))
    if ensemble.is_classifier:
        classes = model.classes_
        known = np.isin(arr, classes)
        if not known.all():
            raise InputError(describe("y", f"labels among the model's classes "
                                      f"{classes.tolist()}", arr[~known][:5]))
        return (arr == classes[1]).astype(np.float64)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(describe("y", "numeric targets", arr)) from exc
