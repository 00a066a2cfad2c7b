"""Result records of the global views, with a JSON round trip (no pickle).

Each record is a dataclass of arrays, lists and plain values; ``to_json`` stores
float arrays bit for bit (through :mod:`whylens._serialize`, as an
Explanation does) under a ``"format"`` naming the record, and ``from_json``
rebuilds an equal record.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self

from whylens._serialize import decode, dumps, encode, loads
from whylens.errors import SerializationError, describe

__all__ = ["InspectionResult", "SubsamplingWarning"]


class SubsamplingWarning(UserWarning):
    """A global view used a subset of the rows it was given (the result says which)."""


@dataclasses.dataclass
class InspectionResult:
    """Base of the result records: ``to_dict``/``to_json`` and ``from_dict``/``from_json``."""

    #: The ``"format"`` entry of this record's documents.
    FORMAT: ClassVar[str] = "whylens.InspectionResult/1"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict of every field, with ``"format"``.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"format": self.FORMAT}
        for field in dataclasses.fields(self):
            out[field.name] = self._encode_field(field.name, getattr(self, field.name))
        return out

    def _encode_field(self, name: str, value: Any) -> Any:
        """One field's JSON form (records holding other records override this)."""
        return encode(value)

    @classmethod
    def _decode_field(cls, name: str, raw: Any) -> Any:
        """One field from its JSON form (the inverse of :meth:`_encode_field`)."""
        return decode(raw)

    def to_json(self, **kwargs: Any) -> str:
        """The record as a JSON document (standard JSON: no NaN tokens).

        Returns
        -------
        str
        """
        return dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, payload: Any) -> Self:
        """Rebuild a record from :meth:`to_dict`'s output.

        Raises
        ------
        SerializationError
            The payload is not a document of this record, or misses fields.
        """
        if not isinstance(payload, dict) or payload.get("format") != cls.FORMAT:
            got = payload.get("format") if isinstance(payload, dict) else payload
            raise SerializationError(describe(
                "payload", f"a dict with format={cls.FORMAT!r}", got,
                f"Pass the output of {cls.__name__}.to_dict() or to_json()."))
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in payload]
        if missing:
            raise SerializationError(describe(
                "payload", f"every field of {cls.__name__}", got_text=f"a document "
                f"without {missing}", fix="The document is truncated or was edited."))
        try:
            return cls(**{n: cls._decode_field(n, payload[n]) for n in names})
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(describe(
                "payload", f"a complete {cls.__name__} document",
                got_text=f"a document that fails to decode ({exc})")) from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Rebuild a record from :meth:`to_json`'s output.

        Raises
        ------
        SerializationError
            Not JSON, or not a document of this record.
        """
        return cls.from_dict(loads(text))
