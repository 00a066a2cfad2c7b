"""JSON encoding of explanations without pickle.

Values become JSON-compatible structures that decode to equal values: float
arrays are stored as their raw little-endian bytes (base64) with dtype and
shape, so a round trip is bit-identical; non-finite floats, tuples, dicts with
non-string keys and object arrays are tagged; anything else is kept as its
``repr`` (a string after decoding). Record types (the dataclasses an
Explanation is made of) are encoded field by field, and rebuilt by the caller.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import numpy as np

from whylens.errors import SerializationError, describe

__all__ = ["FORMAT", "check_format", "decode", "dumps", "encode", "loads"]

#: The ``"format"`` entry of every Explanation document.
FORMAT = "whylens.Explanation/1"


def encode(value: Any, records: tuple[type, ...] = ()) -> Any:
    """Return a JSON-compatible form of ``value`` that :func:`decode` inverts.

    Parameters
    ----------
    value : object
        Arrays, numpy scalars, floats (finite or not), bools, ints, strings,
        None, tuples, lists, dicts, and instances of ``records``.
    records : tuple of type, default=()
        Dataclasses encoded as a dict of their fields (decoded as a plain dict).

    Returns
    -------
    object
        Made of dicts, lists, strings, finite floats, ints, bools and None.
    """
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__list__": [encode(v, records) for v in value.tolist()]}
        array = np.ascontiguousarray(value)
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        return {
            "__ndarray__": base64.b64encode(little.tobytes()).decode("ascii"),
            "dtype": little.dtype.str,
            "shape": list(array.shape),
        }
    if records and isinstance(value, records):
        return {f.name: encode(getattr(value, f.name), records)
                for f in dataclasses.fields(value)}
    if isinstance(value, np.generic):
        return encode(value.item(), records)
    if isinstance(value, float):
        if np.isfinite(value):
            return value
        return {"__float__": repr(value)}
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, records) for v in value]}
    if isinstance(value, list):
        return [encode(v, records) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v, records) for k, v in value.items()}
        return {"__dict__": [[encode(k, records), encode(v, records)]
                             for k, v in value.items()]}
    return {"__repr__": repr(value)}


def decode(value: Any) -> Any:
    """Invert :func:`encode` (records come back as dicts of their fields).

    Returns
    -------
    object
        Arrays with their dtype, shape and bits (native byte order, writable).
    """
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        raw = base64.b64decode(value["__ndarray__"])
        array = np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"])
        return array.astype(array.dtype.newbyteorder("="), copy=True)
    if "__list__" in value:
        return np.array([decode(v) for v in value["__list__"]], dtype=object)
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {decode(k): decode(v) for k, v in value["__dict__"]}
    if "__repr__" in value:
        return value["__repr__"]
    return {k: decode(v) for k, v in value.items()}


def check_format(payload: Any) -> None:
    """Raise unless ``payload`` is a dict whose ``"format"`` is :data:`FORMAT`.

    Raises
    ------
    SerializationError
        Naming the format that came.
    """
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        got = payload.get("format") if isinstance(payload, dict) else payload
        raise SerializationError(
            describe("payload", f"a dict with format={FORMAT!r}", got,
                     "Pass the output of Explanation.to_dict() or to_json().")
        )


def dumps(payload: dict[str, Any], **kwargs: Any) -> str:
    """Return ``payload`` as standard JSON (no NaN or Infinity tokens).

    Returns
    -------
    str
    """
    return json.dumps(payload, allow_nan=False, **kwargs)


def loads(text: str | bytes) -> Any:
    """Parse a JSON document.

    Returns
    -------
    object

    Raises
    ------
    SerializationError
        If ``text`` is not JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SerializationError(
            describe("text", "a JSON document", got_text=f"invalid JSON ({exc})")
        ) from exc
