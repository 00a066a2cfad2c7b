"""The calling convention every explainer shares (see DESIGN.md, Conventions).

- ``target=`` says which model output to explain: a class index or name for
  every row; a 1-D sequence, array or tensor of length n for one target per
  row (captum's and pytorch-grad-cam's rule); ``None`` for each row's predicted
  class; ``"all"`` for every output. Several labels per row come only through
  an explicit argument (lime's ``labels=``, the torch methods' ``labels=``).
- ``batch_size=`` (rows per model call) and ``memory_budget=`` (bytes a chunk
  may take) bound each model call.
- ``progress=`` shows a bar; ``callback(done, total)`` is called after every
  chunk and stops the work by raising :class:`~whylens.errors.Cancelled` or
  returning ``False``.
- ``random_state=`` seeds every stochastic method.

This module holds the shared checks, so every explainer reads the same
arguments the same way and says the same thing when they are wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens.errors import Cancelled, InputError, InputTypeError, describe

__all__ = [
    "ALL",
    "ProgressCallback",
    "as_numpy",
    "check_batch_size",
    "checked_callback",
    "resolve_labels_argument",
    "resolve_target",
]

#: ``target="all"``: explain every output of the model.
ALL = "all"

ProgressCallback = Callable[[int, int], Any]


def checked_callback(callback: Any, argument: str = "callback"
                     ) -> Callable[[int, int], None] | None:
    """The user's ``callback(done, total)`` with the convention applied.

    Returns
    -------
    callable or None
        Calls ``callback`` and raises :class:`~whylens.errors.Cancelled` when
        it returns ``False`` (a ``Cancelled`` it raises itself passes through).

    Raises
    ------
    InputTypeError
        ``callback`` is neither None nor callable.
    """
    if callback is None:
        return None
    if not callable(callback):
        raise InputTypeError(describe(argument, "a callable callback(done, total) or None",
                                      callback))
    if getattr(callback, "_whylens_checked", False):
        return callback

    def call(done: int, total: int) -> None:
        if callback(done, total) is False:
            raise Cancelled(f"{argument} returned False after {done} of {total}: "
                            "the work was cancelled.")

    call._whylens_checked = True  # type: ignore[attr-defined]
    return call


def check_batch_size(batch_size: Any, argument: str = "batch_size") -> int | None:
    """A positive int or None (chosen from the memory budget).

    Raises
    ------
    InputError
        Anything else.
    """
    if batch_size is None:
        return None
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise InputError(describe(argument, "a positive int (rows per model call) or None",
                                  batch_size, f"Pass e.g. {argument}=64, or None to size the "
                                  "chunks from memory_budget."))
    return int(batch_size)


def as_numpy(value: Any) -> Any:
    """A torch tensor as a numpy array (detached, on the CPU); other values unchanged.

    Returns
    -------
    ndarray or the value as given
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        return value.detach().cpu().numpy()
    return value


def _label_index(item: Any, n_outputs: int, output_names: Sequence[str] | None,
                 argument: str) -> int:
    if isinstance(item, (str, np.str_)):
        names = list(output_names) if output_names is not None else []
        if str(item) not in names:
            raise InputError(describe(
                argument, "an output index or one of the output names "
                f"{names[:10]}" if names else "an output index (this model's outputs have no "
                "names)", item, "Pass the class index, or name the outputs (class_names=)."))
        return names.index(str(item))
    if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
        raise InputTypeError(describe(argument, "an output index (int) or name (str)", item))
    if not 0 <= int(item) < n_outputs:
        raise InputError(describe(
            argument, f"an output index in [0, {n_outputs})", item,
            f"The model has {n_outputs} output(s); None explains each row's predicted class."))
    return int(item)


def resolve_target(target: Any, output: Any, *, output_names: Sequence[str] | None = None,
                   argument: str = "target") -> np.ndarray:
    """The labels to explain for each row, by the convention.

    Parameters
    ----------
    target : None, int, str, "all", or a 1-D sequence / array / tensor of length n
        ``None``: each row's predicted class (the largest output); an int or a
        name: that output for every row; ``"all"``: every output; a length-n
        sequence: one target per row.
    output : array-like or tensor of shape (n, n_outputs)
        The model's outputs at the rows.
    output_names : sequence of str, optional
        Names a ``target`` may use.
    argument : str, default="target"
        Name used in messages.

    Returns
    -------
    ndarray of int64, shape (n, n_labels)
        ``n_labels`` is ``n_outputs`` for ``"all"``, else 1.

    Raises
    ------
    InputError
        An index out of range, an unknown name, a sequence whose length is not
        n, a 2-D target (several labels per row need an explicit argument).
    InputTypeError
        A target of another type (a float, a bool, a dict).
    """
    out = np.asarray(as_numpy(output))
    if out.ndim == 1:
        out = out.reshape(-1, 1)
    n, k = int(out.shape[0]), int(out.shape[1])
    if target is None:
        return out.argmax(axis=1).astype(np.int64).reshape(n, 1)
    if isinstance(target, str) and target == ALL:
        return np.broadcast_to(np.arange(k, dtype=np.int64), (n, k)).copy()
    if isinstance(target, (str, np.str_, int, np.integer)) and not isinstance(
            target, (bool, np.bool_)):
        return np.full((n, 1), _label_index(target, k, output_names, argument), dtype=np.int64)
    target = as_numpy(target)
    if isinstance(target, (bool, np.bool_, float, np.floating, dict, set)) or not hasattr(
            target, "__len__"):
        raise InputTypeError(describe(
            argument, "None, an output index or name, 'all', or one per row (length n)",
            target))
    items = np.asarray(target) if isinstance(target, np.ndarray) else list(target)
    if isinstance(items, np.ndarray) and items.ndim != 1:
        raise InputError(describe(
            argument, f"a 1-D sequence of one target per row (length {n})",
            got_text=f"an array of shape {items.shape}",
            fix="To explain several labels for every row, pass them as labels=[...]."))
    if len(items) != n:
        raise InputError(describe(
            argument, f"one target per row: a sequence of length {n}",
            got_text=f"a sequence of length {len(items)}",
            fix="Pass an int or a name to explain the same output for every row; to explain "
                "several labels for every row, pass them as labels=[...]."))
    if any(isinstance(t, (list, tuple, np.ndarray)) for t in items):
        raise InputError(describe(
            argument, "one target per row (an index or name each)", target,
            "To explain several labels for every row, pass them as labels=[...]."))
    return np.array([_label_index(t, k, output_names, argument) for t in items],
                    dtype=np.int64).reshape(n, 1)


def resolve_labels_argument(labels: Any, n_outputs: int, *,
                            output_names: Sequence[str] | None = None,
                            argument: str = "labels") -> np.ndarray:
    """Several labels explained for every row (the explicit argument).

    Returns
    -------
    ndarray of int64, shape (n_labels,)

    Raises
    ------
    InputError, InputTypeError
        An empty or non-sequence value, an index out of range, an unknown name.
    """
    if isinstance(labels, (int, np.integer, str)) and not isinstance(labels, bool):
        labels = [labels]
    labels = as_numpy(labels)
    try:
        items = list(labels)
    except TypeError as exc:
        raise InputTypeError(describe(argument, "a sequence of output indices or names",
                                      labels)) from exc
    if not items:
        raise InputError(describe(argument, "a non-empty sequence of output indices", labels))
    return np.array([_label_index(t, n_outputs, output_names, argument) for t in items],
                    dtype=np.int64)
