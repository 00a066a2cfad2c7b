"""``as_model``: turn a callable, a scikit-learn estimator or a torch module into a Model."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from whylens.errors import InputError, InputTypeError, describe
from whylens.models._base import DEFAULT_MEMORY_BUDGET, Model

__all__ = ["as_model"]

_OUTPUTS = ("auto", "probability", "decision", "predict", "logits")


def _is_torch_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")  # never import torch just to check
    return torch is not None and isinstance(obj, torch.nn.Module)


def _is_sklearn_estimator(obj: Any) -> bool:
    return hasattr(obj, "fit") and any(
        hasattr(obj, m) for m in ("predict_proba", "decision_function", "predict")
    )


def as_model(
    obj: Any,
    *,
    output: str = "auto",
    chunk_size: int | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    output_names: Sequence[str] | None = None,
    returns: str | None = None,
) -> Model:
    """Wrap any model as a :class:`~whylens.models.Model`.

    Parameters
    ----------
    obj : callable, scikit-learn estimator or pipeline, torch.nn.Module, or Model
        - a callable ``f(batch) -> (n,) or (n, k)`` (lime's ``classifier_fn``);
        - a fitted scikit-learn estimator or pipeline: ``predict_proba`` if it
          has one, else ``decision_function``, else ``predict``;
        - a ``torch.nn.Module``: evaluated on the module's device under
          ``torch.inference_mode()`` in eval mode, every submodule's training
          flag restored afterwards;
        - a :class:`Model`, returned as it is (or with a new chunk size).
    output : {"auto", "probability", "decision", "predict", "logits"}, default="auto"
        Which output to explain. ``"probability"`` asks scikit-learn for
        ``predict_proba`` and applies softmax (sigmoid for one output) to a
        torch module's logits; ``"logits"`` keeps a module's raw output;
        ``"auto"`` is ``predict_proba``/``decision_function``/``predict`` for
        scikit-learn and ``"logits"`` for torch.
    chunk_size : int, optional
        Rows per model call; ``None`` derives it from ``memory_budget``.
    memory_budget : int, default=256 MiB
        Bytes one chunk may use (inputs times an estimated working factor).
    output_names : sequence of str, optional
        Names of the outputs; scikit-learn classifiers default to ``classes_``.
    returns : {"logits", "probability"}, optional
        For a torch module: what its forward returns. ``"logits"`` (the
        default): scores, which ``output="probability"`` turns into
        probabilities by softmax (sigmoid for one output). ``"probability"``:
        the module already ends in softmax or sigmoid, so its values are used
        as they are (one output ``p`` as ``[1 - p, p]``) and must lie in
        [0, 1]. Not accepted for other kinds of model.

    Returns
    -------
    Model
        Callable as ``model(batch) -> ndarray of shape (n, n_outputs)``, float64.

    Raises
    ------
    InputTypeError
        If ``obj`` is none of the supported kinds.
    InputError
        If ``output`` is unknown or the estimator lacks the requested method,
        a scikit-learn estimator is not fitted, or ``returns`` is given for a
        model that is not a torch module.
    ModelOutputError
        When called, if a module declared ``returns="probability"`` gives
        values outside [0, 1].
    """
    if output not in _OUTPUTS:
        raise InputError(describe("output", f"one of {_OUTPUTS}", output))
    if returns is not None and not _is_torch_module(obj):  # a Model is already wrapped
        raise InputError(
            describe("returns", "None unless the model is a torch.nn.Module", returns,
                     "returns= says what a torch module's forward gives (logits or "
                     "probabilities); other models, and Models, are used as they are.")
        )
    if isinstance(obj, Model):
        if chunk_size is not None and chunk_size != obj.chunk_size:
            return Model(obj.fn, chunk_size=chunk_size, memory_budget=memory_budget,
                         working_factor=obj.working_factor, output_names=obj.output_names,
                         kind=obj.kind, output=obj.output, name=obj.name)
        return obj
    common = {"chunk_size": chunk_size, "memory_budget": memory_budget}
    if _is_torch_module(obj):
        from whylens.models._torch import torch_predict_fn

        fn = torch_predict_fn(obj, probability=(output == "probability"),
                              returns="logits" if returns is None else returns)
        if output not in ("auto", "logits", "probability"):
            raise InputError(
                describe("output", "'logits' or 'probability' for a torch module", output)
            )
        return Model(fn, kind="torch", output="probability" if output == "probability"
                     else "logits", working_factor=32.0, output_names=output_names,
                     name=type(obj).__name__, **common)
    if _is_sklearn_estimator(obj):
        fn, kind_out, names = _sklearn_predict_fn(obj, output)
        return Model(fn, kind="sklearn", output=kind_out,
                     output_names=output_names if output_names is not None else names,
                     name=type(obj).__name__, **common)
    if callable(obj):
        return Model(obj, kind="callable", output="raw", output_names=output_names, **common)
    raise InputTypeError(
        describe("model", "a callable, a fitted scikit-learn estimator or a torch.nn.Module",
                 got_text=f"an object of type {type(obj).__name__}",
                 fix="Pass e.g. pipeline.predict_proba or the fitted estimator itself.")
    )


def _sklearn_predict_fn(
    estimator: Any, output: str
) -> tuple[Callable[[Any], Any], str, list[str] | None]:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise InputError(
            describe("model", "a fitted scikit-learn estimator",
                     got_text=f"an unfitted {type(estimator).__name__}",
                     fix="Call .fit(X, y) before explaining it.")
        ) from exc
    available = {m: hasattr(estimator, m) for m in ("predict_proba", "decision_function")}
    if output == "auto":
        method = next((m for m in ("predict_proba", "decision_function") if available[m]),
                      "predict")
    else:
        method = {"probability": "predict_proba", "decision": "decision_function",
                  "predict": "predict", "logits": "decision_function"}[output]
        if method != "predict" and not available[method]:
            raise InputError(
                describe("output", f"a method the estimator has (it lacks {method})", output,
                         f"{type(estimator).__name__} offers: "
                         + ", ".join(m for m, ok in available.items() if ok) + ", predict.")
            )
    classes = getattr(estimator, "classes_", None)
    names: list[str] | None = None
    if classes is not None and method == "predict_proba":
        names = [str(c) for c in classes]
    elif classes is not None and method == "decision_function":
        names = [str(c) for c in classes] if len(classes) > 2 else [str(classes[1])]
    kind_out = {"predict_proba": "probability", "decision_function": "decision",
                "predict": "prediction"}[method]
    fn = getattr(estimator, method)
    return fn, kind_out, names

