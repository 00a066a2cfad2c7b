"""What every served model gives the server: its ``info()`` and a ``plan(body)`` per request.

The server knows three kinds of served models (:class:`~whylens.app.VisionModel`,
:class:`~whylens.app.TextModel`, :class:`~whylens.app.TabularModel`). Each
checks a request body before any model call and returns a :class:`Plan`: the
cache key of the result and the function that computes it in the model's
worker. Every computation returns a :class:`Result`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Cache", "Plan", "Result", "Served"]


@dataclass
class Result:
    """What one request produced.

    Attributes
    ----------
    explanation : Explanation or None
        The library's result (exported as JSON).
    meta : dict
        JSON-ready facts the page shows (weights, channels, value range,
        seconds, model evaluations ...).
    png : bytes or None
        The panel's picture; when None, ``draw_png()`` makes it on first use.
    draw_png : callable, optional
        ``draw_png() -> bytes``, for results the page draws itself (text,
        tables) and that are exported as pictures only on demand.
    title : str
        Heading of the exported report.
    """

    explanation: Any
    meta: dict[str, Any] = field(default_factory=dict)
    png: bytes | None = None
    draw_png: Callable[[], bytes] | None = None
    title: str = "whylens"

    def picture(self) -> bytes:
        """The PNG bytes, drawn on first use and kept."""
        if self.png is None:
            if self.draw_png is None:
                raise LookupError("this result has no picture")
            self.png = self.draw_png()
        return self.png

    @property
    def nbytes(self) -> int:
        """Approximate memory held (for the cache's bound)."""
        n = 1024 + (len(self.png) if self.png is not None else 0)
        exp = self.explanation
        if exp is not None:
            for name in ("values", "layer_values", "output", "base_values"):
                arr = getattr(exp, name, None)
                if isinstance(arr, np.ndarray):
                    n += arr.nbytes
            data = getattr(getattr(exp, "features", None), "data", None)
            if isinstance(data, np.ndarray):
                n += data.nbytes
        return n


class Cache(Protocol):
    """The server's result cache as a plan sees it (for intermediate results)."""

    def get(self, key: tuple[Any, ...]) -> Any: ...

    def put(self, key: tuple[Any, ...], value: Any) -> None: ...


@dataclass
class Plan:
    """A checked request: its cache key and how to compute it.

    Attributes
    ----------
    key : tuple
        Everything the result depends on (hashable); the model's name is
        prepended by the server.
    run : callable
        ``run(report) -> Result``; ``report(done, total)`` is the library's
        progress callback (it raises Cancelled when the page cancels).
    long : bool
        Whether the page should expect progress events.
    """

    key: tuple[Any, ...]
    run: Callable[[Callable[[int, int], None]], Result]
    long: bool = False


@runtime_checkable
class Served(Protocol):
    """A model the workbench serves."""

    kind: str
    title: str

    def info(self) -> dict[str, Any]:
        """What the page needs to draw its view (JSON-ready)."""
        ...

    def plan(self, body: dict[str, Any], cache: Cache) -> Plan:
        """Check a request body (raising whylens.errors on bad input) and plan its work."""
        ...
