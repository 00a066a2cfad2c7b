"""JSON encoding of explanations without pickle.

Values become JSON-compatible structures that decode to equal values: float
arrays are stored as their raw little-endian bytes (base64) with dtype and
shape, so a round trip is bit-identical; non-finite floats, tuples, dicts with
non-string keys and object arrays are tagged; anything else is kept as its
``repr`` (a string after decoding). Record types (the dataclasses an
Explanation is made of) are encoded field by field, and rebuilt by the caller.

Documents are untrusted input: :func:`loads` and :func:`decode` raise only
:class:`~whylens.errors.SerializationError` (never a RecursionError, an
OverflowError or numpy's errors), and :func:`explanation_fields` checks every
field of an Explanation document (type, shape, labels within the outputs)
and names the one that is wrong.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens.errors import SerializationError, describe

__all__ = ["FORMAT", "check_format", "decode", "dumps", "encode", "explanation_fields",
           "loads"]

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


#: dtype kinds an encoded array may have: bool, signed and unsigned int, float.
_ARRAY_KINDS = "biuf"


def _decoded_array(value: dict[str, Any]) -> np.ndarray:
    data, dtype, shape = value.get("__ndarray__"), value.get("dtype"), value.get("shape")
    if not isinstance(data, str) or not isinstance(dtype, str):
        raise SerializationError("an encoded array needs base64 text and a dtype string")
    # Only simple dtype strings reach numpy, which parses others as Python literals.
    if not re.fullmatch(r"[<>|=]?[a-zA-Z]\d{0,2}", dtype):
        raise SerializationError(f"dtype {dtype[:40]!r} is not a bool, int or float dtype")
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise SerializationError(f"unknown dtype {dtype[:40]!r}") from exc
    if dt.kind not in _ARRAY_KINDS or dt.fields is not None or dt.shape != ():
        raise SerializationError(f"dtype {dtype[:40]!r} is not a bool, int or float dtype")
    if not isinstance(shape, list) or not all(
            type(k) is int and 0 <= k < 2**62 for k in shape) or len(shape) > 32:
        raise SerializationError(f"shape {str(shape)[:60]} is not a list of sizes")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise SerializationError("the array's bytes are not base64") from exc
    count = 1
    for k in shape:
        count *= k
    if count * dt.itemsize != len(raw):
        raise SerializationError(f"{len(raw)} bytes do not make an array of shape "
                                 f"{tuple(shape)} and dtype {dt.str}")
    array = np.frombuffer(raw, dtype=dt).reshape(shape)
    return array.astype(array.dtype.newbyteorder("="), copy=True)


def decode(value: Any) -> Any:
    """Invert :func:`encode` (records come back as dicts of their fields).

    Returns
    -------
    object
        Arrays with their dtype, shape and bits (native byte order, writable).

    Raises
    ------
    SerializationError
        A tagged value that :func:`encode` cannot have written (an array whose
        bytes do not fit its shape, an object dtype, a ``__float__`` that is
        not a number, ...).
    """
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        return _decoded_array(value)
    if "__list__" in value:
        items = value["__list__"]
        if not isinstance(items, list):
            raise SerializationError("__list__ needs a list")
        try:
            return np.array([decode(v) for v in items], dtype=object)
        except ValueError as exc:  # nested lists numpy cannot shape
            raise SerializationError(f"__list__ items that make no array ({exc})") from exc
    if "__float__" in value:
        text = value["__float__"]
        try:
            if not isinstance(text, str) or len(text) > 40:
                raise ValueError(text)
            return float(text)
        except ValueError as exc:
            raise SerializationError(
                f"__float__ needs a number's text, got {str(text)[:40]!r}") from exc
    if "__tuple__" in value:
        if not isinstance(value["__tuple__"], list):
            raise SerializationError("__tuple__ needs a list")
        return tuple(decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        pairs = value["__dict__"]
        if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 for p in pairs):
            raise SerializationError("__dict__ needs a list of [key, value] pairs")
        out_dict = {}
        for k, v in pairs:
            key = decode(k)
            try:
                hash(key)
            except TypeError as exc:
                raise SerializationError(f"a dict key of type {type(key).__name__}") from exc
            out_dict[key] = decode(v)
        return out_dict
    if "__repr__" in value:
        if not isinstance(value["__repr__"], str):
            raise SerializationError("__repr__ needs a str")
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


class _Bad(Exception):
    """A field's value is wrong: the field, what was expected, what came."""

    def __init__(self, expected: str, got: str, field: str | None = None) -> None:
        super().__init__(expected, got, field)
        self.expected, self.got, self.field = expected, got, field


def _at(field: str, checker: Any, *args: Any) -> Any:
    """``checker(*args)``, its complaint attributed to ``field``."""
    try:
        return checker(*args)
    except _Bad as exc:
        exc.field = exc.field or field
        raise


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _numbers(value: Any, n: int | None, kinds: str = "biuf", ndim: int | None = None,
             lead: tuple[int, ...] = ()) -> np.ndarray:
    """``value`` as a numeric array (first axis n, if given; leading axes ``lead``)."""
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, list):
        try:
            array = np.asarray(value)
        except (ValueError, OverflowError) as exc:
            raise _Bad("a numeric array", "a list numpy cannot shape") from exc
        if array.size == 0 and array.dtype.kind == "f" and "f" not in kinds:
            array = array.astype(np.int64)
    else:
        raise _Bad("a numeric array", _kind(value))
    if array.dtype.kind not in kinds:
        names = {"b": "bools", "i": "ints", "u": "ints", "f": "floats"}
        wanted = ", ".join(dict.fromkeys(names[k] for k in kinds))
        raise _Bad(f"an array of {wanted}", _kind(array))
    if ndim is not None and array.ndim != ndim:
        raise _Bad(f"a {ndim}-d array", _kind(array))
    if n is not None and (array.ndim == 0 or array.shape[0] != n):
        raise _Bad(f"an array with one row per instance ({n})", _kind(array))
    if lead and array.shape[:len(lead)] != lead:
        dims = ", ".join(map(str, lead)) + (", ..." if ndim != len(lead) else "")
        raise _Bad(f"an array of shape ({dims})", _kind(array))
    return array


def _per_instance(value: Any, n: int, item: type | None = None) -> Any:
    if isinstance(value, np.ndarray) and item is None:
        if value.ndim and value.shape[0] == n:
            return value
        raise _Bad(f"one row per instance ({n})", _kind(value))
    if not isinstance(value, list) or len(value) != n:
        got = f"a list of {len(value)}" if isinstance(value, list) else _kind(value)
        raise _Bad(f"a list with one entry per instance ({n})", got)
    if item is not None and not all(isinstance(v, item) for v in value):
        raise _Bad(f"a list of {item.__name__}", "other entries")
    return value


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad("a list of str", _kind(value))
    return value


def _int(value: Any, low: int = 0, high: int = 2**63 - 1) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _Bad(f"an int in [{low}, {high}]", repr(value)[:40])
    return value


def _of_type(value: Any, types: type | tuple[type, ...], expected: str) -> Any:
    if not isinstance(value, types) or isinstance(value, bool):
        raise _Bad(expected, _kind(value))
    return value


def _plain(value: Any) -> bool:
    """Plain JSON: dicts of str keys, lists, finite floats, ints, str, bools, None."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, float):
        return bool(np.isfinite(value))
    return value is None or isinstance(value, (bool, int, str))


def _quality(value: Any) -> dict[str, Any]:
    """``quality``: metric name -> a dict of plain JSON figures."""
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in value.items()):
        raise _Bad("a dict of metric name -> dict of figures", _kind(value))
    if not _plain(value):
        raise _Bad("figures as plain JSON numbers, strings, lists and dicts",
                   "arrays, tuples or non-finite numbers")
    return value


def _descriptions(value: Any, n: int, n_names: int) -> list[list[str]]:
    rows = [_strings(d) for d in _per_instance(value, n, list)]
    if any(len(d) != n_names for d in rows):
        raise _Bad(f"one description per feature name ({n_names}) for every instance",
                   f"lengths {sorted({len(d) for d in rows})[:5]}")
    return rows


def _check_fields(kw: dict[str, Any]) -> None:
    """Check the decoded fields of an Explanation document; :class:`_Bad` names the field."""
    values = _at("values", _numbers, kw["values"], None)
    if values.ndim < 2:
        raise _Bad("an array of shape (n_instances, n_labels, ...)", _kind(values), "values")
    n = int(values.shape[0])
    _at("method", _of_type, kw["method"], str, "a str")
    if "mode" in kw:
        _at("mode", _of_type, kw["mode"], str, "a str")
    n_labels = int(values.shape[1])
    arrays = {
        "output": lambda v: _numbers(v, n, ndim=2),
        "base_values": lambda v: _numbers(v, n, ndim=2, lead=(n, n_labels)),
        "selected": lambda v: _numbers(v, n, "b", values.ndim, lead=values.shape),
        "layer_values": lambda v: _numbers(v, n, lead=(n, n_labels)),
        "delta": lambda v: _numbers(v, n, ndim=2, lead=(n, n_labels)),
    }
    for name, checker in arrays.items():
        if kw.get(name) is not None:
            kw[name] = _at(name, checker, kw[name])
    others = {
        "output_names": _strings,
        "params": lambda v: _of_type(v, dict, "a dict"),
        "n_evals": _int,
        "quality": _quality,
    }
    for name, checker in others.items():
        if kw.get(name) is not None:
            _at(name, checker, kw[name])
    n_outputs = None
    if kw.get("output") is not None:
        n_outputs = int(np.asarray(kw["output"]).shape[1])
    elif kw.get("output_names") is not None:
        n_outputs = len(kw["output_names"])
    high = 2**31 - 1 if n_outputs is None else n_outputs - 1
    outputs = " (one of the model's outputs)" if n_outputs is not None else ""
    labels = _at("labels", _numbers, kw["labels"], None, "iu")
    if labels.size and not (labels.min() >= 0 and labels.max() <= high):
        raise _Bad(f"labels in [0, {high}]{outputs}",
                   f"labels from {labels.min()} to {labels.max()}", "labels")
    if kw.get("top_labels") is not None:
        for label in _at("top_labels", _of_type, kw["top_labels"], list, "a list of labels"):
            _at("top_labels", _int, label, 0, high)

    features = _at("features", _of_type, kw["features"], dict, "a dict of the features' fields")
    _at("features.kind", _of_type, features.get("kind"), str, "a str")
    _at("features.names", _strings, features.get("names"))
    per_instance = {
        "descriptions": lambda v: _descriptions(v, n, len(features["names"])),
        "data": lambda v: _per_instance(v, n),
        "texts": lambda v: _per_instance(v, n, str),
        "spans": lambda v: _per_instance(v, n, list),
        "segments": lambda v: _numbers(v, n, "iu"),
    }
    unknown = sorted(map(str, set(features) - {"kind", "names", *per_instance}))
    if unknown:
        raise _Bad("the fields of Features", f"unknown field(s) {unknown[:5]}", "features")
    for name, checker in per_instance.items():
        if features.get(name) is not None:
            checked = _at(f"features.{name}", checker, features[name])
            if name == "segments":
                features[name] = checked

    surrogate = kw.get("surrogate")
    if surrogate is not None:
        _at("surrogate", _of_type, surrogate, dict, "a dict of the surrogate's fields")
        fields = ("intercept", "score", "local_prediction", "kernel_width")
        unknown = sorted(map(str, set(surrogate) - set(fields)))
        if unknown:
            raise _Bad("the fields of Surrogate", f"unknown field(s) {unknown[:5]}", "surrogate")
        for name in fields[:3]:
            surrogate[name] = _at(f"surrogate.{name}", _numbers, surrogate.get(name), n, "biuf",
                                  2, (n, n_labels))
        _at("surrogate.kernel_width", _of_type, surrogate.get("kernel_width"), (int, float),
            "a number")


def explanation_fields(payload: Any, names: Sequence[str]) -> dict[str, Any]:
    """Decode and check the fields of an Explanation document.

    Parameters
    ----------
    payload : object
        What :meth:`Explanation.to_dict` returned, or anything pretending to be.
    names : sequence of str
        The Explanation's field names; other keys are ignored.

    Returns
    -------
    dict
        The decoded fields (``features`` and ``surrogate`` as dicts), each of
        the type and shape an Explanation holds: numeric arrays with one row
        per instance, labels that are ints within the model's outputs,
        ``n_evals`` a non-negative int.

    Raises
    ------
    SerializationError
        Naming the field (``payload['labels']``, ``payload['features.names']``)
        that is missing, cannot be decoded, or holds something else.
    """
    check_format(payload)
    for name in ("values", "labels", "method", "features"):
        if name not in payload:
            raise SerializationError(describe(
                "payload", f"a complete Explanation document (with {name!r})",
                got_text="a document without it",
                fix="Pass the output of Explanation.to_dict() or to_json()."))
    kwargs: dict[str, Any] = {}
    for name in names:
        if name not in payload:
            continue
        try:
            kwargs[name] = decode(payload[name])
        except RecursionError as exc:
            raise SerializationError(describe(
                f"payload[{name!r}]", "a value as Explanation.to_dict() writes it",
                got_text="one nested too deeply")) from exc
        except SerializationError as exc:
            raise SerializationError(describe(
                f"payload[{name!r}]", "a value as Explanation.to_dict() writes it",
                got_text=str(exc))) from exc
    try:
        _check_fields(kwargs)
    except _Bad as exc:
        raise SerializationError(describe(f"payload[{exc.field!r}]", exc.expected,
                                          got_text=exc.got)) from None
    return kwargs


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
        If ``text`` is not a str or bytes, not JSON, nested too deeply, or
        holds an integer too long to read.
    """
    if not isinstance(text, (str, bytes, bytearray)):
        raise SerializationError(
            describe("text", "a JSON document (str or bytes)", text,
                     "Pass the output of Explanation.to_json(), or use from_dict for a dict.")
        )
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise SerializationError(
            describe("text", "a JSON document", got_text="one nested too deeply to read")
        ) from exc
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, an integer of too many digits
        raise SerializationError(
            describe("text", "a JSON document", got_text=f"invalid JSON ({str(exc)[:200]})")
        ) from exc
