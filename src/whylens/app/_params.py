"""Parameters the page can edit: their schema (sent to the page) and their checks.

Each mode of the workbench declares its parameters as :class:`Param`; the page
builds its form from :meth:`Param.schema` and the server checks every request
with :func:`parse_params` before any model call, so a value out of range is a
400 naming the parameter, never a crash or a hang.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from whylens.errors import InputError, InputTypeError, describe

__all__ = ["Param", "parse_params"]


@dataclass(frozen=True)
class Param:
    """One editable parameter.

    Attributes
    ----------
    name : str
    kind : {"int", "float", "choice", "bool"}
    default : Any
    low, high : float, optional
        Inclusive range of numbers.
    choices : tuple, optional
        Allowed values of a ``"choice"``.
    label : str
        What the page shows.
    view : bool
        Whether it only changes how a result is drawn (not the computation:
        changing it re-draws without calling the model).
    """

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    label: str = ""
    view: bool = False

    def schema(self) -> dict[str, Any]:
        """The JSON the page builds its input from."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": self.default,
                               "label": self.label or self.name.replace("_", " "),
                               "view": self.view}
        if self.low is not None:
            out["min"] = self.low
        if self.high is not None:
            out["max"] = self.high
        if self.choices:
            out["choices"] = list(self.choices)
        return out

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type.

        Raises
        ------
        InputTypeError
            The wrong type.
        InputError
            Out of range or not one of the choices.
        """
        arg = f"params.{self.name}"
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise InputTypeError(describe(arg, "true or false", value))
            return value
        if self.kind == "choice":
            if value not in self.choices or isinstance(value, bool):
                raise InputError(describe(arg, f"one of {list(self.choices)}", value))
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputTypeError(describe(arg, f"a number ({self.kind})", value))
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise InputTypeError(describe(arg, "an integer", value))
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise InputError(describe(arg, "a finite number", value))
        if (self.low is not None and value < self.low) or \
                (self.high is not None and value > self.high):
            raise InputError(describe(arg, f"a number in [{self.low}, {self.high}]", value))
        return value


def parse_params(specs: Sequence[Param], raw: Any) -> dict[str, Any]:
    """Check a request's ``params`` object against ``specs``; missing ones take their default.

    Returns
    -------
    dict
        Every parameter of ``specs``, checked, in ``specs`` order.

    Raises
    ------
    InputTypeError
        ``raw`` is not an object, or a value has the wrong type.
    InputError
        An unknown parameter, or a value out of range.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InputTypeError(describe("params", "an object of parameter values", raw))
    known = {p.name: p for p in specs}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise InputError(describe("params", f"only the parameters {sorted(known)}",
                                  got_text=f"unknown {unknown}"))
    return {p.name: p.check(raw[p.name]) if p.name in raw else p.default for p in specs}
