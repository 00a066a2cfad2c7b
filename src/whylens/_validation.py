"""Argument checks shared by every public entry point."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe

__all__ = [
    "check_finite_row",
    "check_names",
    "check_positive_int",
    "check_random_state",
    "random_state_param",
]


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``.

    Raises
    ------
    InputTypeError
        If ``value`` is not an integer (bools are refused).
    InputError
        If it is smaller than ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(describe(name, f"an integer >= {minimum}", value))
    if value < minimum:
        raise InputError(describe(name, f"an integer >= {minimum}", value))
    return int(value)


def check_random_state(random_state: Any) -> np.random.Generator:
    """Return a fresh ``numpy.random.Generator`` for ``random_state``.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        ``None``: a non-reproducible generator. An int: a new generator
        seeded with it (so the same int gives the same draws every call). A
        Generator is used as it is (and advances).

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    InputTypeError
        For any other type.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InputError(describe("random_state", "a non-negative int seed", random_state))
        return np.random.default_rng(int(random_state))
    raise InputTypeError(
        describe("random_state", "None, an int seed or a numpy.random.Generator", random_state)
    )


def random_state_param(random_state: Any) -> Any:
    """A JSON-friendly record of ``random_state`` for ``Explanation.params``."""
    if random_state is None or isinstance(random_state, numbers.Integral):
        return None if random_state is None else int(random_state)
    if isinstance(random_state, np.random.Generator):
        return {"bit_generator": random_state.bit_generator.state}
    return repr(random_state)


def check_finite_row(name: str, row: Any, n_features: int) -> np.ndarray:
    """Return ``row`` as a float64 vector of length ``n_features``.

    Raises
    ------
    InputError
        Wrong length or shape, NaN or infinity.
    InputTypeError
        Not numeric.
    """
    try:
        arr = np.asarray(row, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(
            describe(name, f"a numeric row of {n_features} values", row,
                     "Encode categorical values as numbers (as in the training data).")
        ) from exc
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1 or arr.shape[0] != n_features:
        raise InputError(
            describe(name, f"one row of shape ({n_features},)", got_text=f"shape {arr.shape}",
                     fix="Pass a single row, e.g. X[i], with as many values as the training data "
                         "has columns.")
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InputError(
            describe(name, "finite values", got_text=f"NaN or infinity at column(s) "
                     f"{bad[:10].tolist()}", fix="Impute missing values before explaining.")
        )
    return arr


def check_names(name: str, names: Sequence[Any] | None, n: int, default_prefix: str
                ) -> list[str]:
    """Return ``names`` as n strings, or defaults ``[prefix0, prefix1, ...]``.

    Raises
    ------
    InputError
        If the number of names is not ``n``.
    """
    if names is None:
        return [f"{default_prefix}{i}" for i in range(n)]
    names = [str(x) for x in names]
    if len(names) != n:
        raise InputError(
            describe(name, f"{n} names (one each)", got_text=f"{len(names)} names")
        )
    return names
