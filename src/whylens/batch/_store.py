"""The output directory of a job: Parquet parts, the manifest, the summary.

Layout::

    DIR/manifest.json        the job (method, params, seed, input and model digests,
                             whylens version), the column layout, finished chunks
                             with their row ranges and SHA-256 checksums
    DIR/part-<start>-<stop>.parquet   one per chunk: row, value:<label>:<feature>,
                             base_value:<label>, output:<output> (text: row, tokens
                             and value:<label> as lists, base_value, output)
    DIR/summary.json         mean |value| per feature and label, from the parts
                             (torch methods: mean |map| per label explained)

Only the driver writes here. A part is written to a temporary name, flushed
to disk and renamed; then the manifest (also written to a temporary name and
renamed) lists it. A part the manifest does not list, or whose checksum does
not match, is redone.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from whylens.batch._deps import pyarrow
from whylens.errors import InputError, describe

__all__ = ["MANIFEST", "Store", "part_bytes", "part_name"]

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
FORMAT = "whylens.batch/1"
_TMP = ".tmp-"
#: Tokens per label kept in a text job's summary.
TOP_TOKENS = 100


def part_name(start: int, stop: int) -> str:
    """The file name of the part holding rows ``[start, stop)``."""
    return f"part-{start:012d}-{stop:012d}.parquet"


def value_column(label: str, feature: str) -> str:
    """Name of the column holding ``feature``'s values for output ``label``."""
    return f"value:{label}:{feature}"


def part_bytes(columns: dict[str, Any]) -> bytes:
    """The Parquet file of one chunk, in memory.

    Parameters
    ----------
    columns : dict
        Column name to values (arrays; lists of lists for text tokens and values).

    Returns
    -------
    bytes
    """
    pa, _, pq, _ = pyarrow()
    sink = pa.BufferOutputStream()
    # Dictionary encoding only for tokens: float columns rarely repeat, so on them it
    # makes writing several times slower and the files larger.
    dictionary = ["tokens"] if "tokens" in columns else False
    pq.write_table(pa.table(columns), sink, use_dictionary=dictionary)
    return sink.getvalue().to_pybytes()


def _write_atomic(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f"{path.name}{_TMP}{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


class Store:
    """The output directory of one job.

    Parameters
    ----------
    directory : path
    job : dict
        The job's identity (JSON-able); a manifest of another job is refused.
    n_chunks : int
    resume : bool
        Keep the finished chunks of an earlier run of the same job.

    Raises
    ------
    InputError
        The directory is a file, holds another job's manifest, or holds other
        files and no manifest.
    """

    def __init__(self, directory: Any, job: dict[str, Any], n_chunks: int,
                 resume: bool = True) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise InputError(describe("output", "a directory (or a path to create)",
                                      str(directory), "Choose another path."))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.job = json.loads(json.dumps(job))
        self.n_chunks = n_chunks
        path = self.directory / MANIFEST
        self.chunks: dict[int, dict[str, Any]] = {}
        self.layout: dict[str, Any] | None = None
        self.redone: list[int] = []
        if path.is_file():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(describe("output", "a directory whose manifest.json whylens "
                                          "wrote", str(directory), f"It cannot be read ({exc}); "
                                          "choose another directory.")) from exc
            if old.get("format") != FORMAT or old.get("job") != self.job:
                raise InputError(describe(
                    "output", "an empty directory or one holding this job's manifest",
                    got_text=f"{directory}, which holds the manifest of another job "
                             f"({_difference(old.get('job'), self.job)})",
                    fix="Choose another output directory, or delete that one to start over."))
            if resume:
                self.layout = old.get("layout")
                for key, entry in old.get("chunks", {}).items():
                    self.chunks[int(key)] = entry
        else:
            ours = {MANIFEST, SUMMARY}
            others = [p.name for p in self.directory.iterdir()
                      if p.name not in ours and not p.name.startswith("part-")]
            if others:
                raise InputError(describe(
                    "output", "an empty directory or one holding this job's manifest",
                    got_text=f"{directory}, which holds other files ({sorted(others)[:3]})",
                    fix="Choose an empty or new directory."))
        self._verify()
        self.save()

    # ----------------------------------------------------------------- state
    def _verify(self) -> None:
        """Keep the listed parts whose bytes match their checksum; drop every other file."""
        for index, entry in sorted(self.chunks.items()):
            path = self.directory / entry["file"]
            try:
                ok = _sha256(path.read_bytes()) == entry["sha256"]
            except OSError:
                ok = False
            if not ok:
                del self.chunks[index]
                self.redone.append(index)
        listed = {entry["file"] for entry in self.chunks.values()}
        for path in self.directory.iterdir():
            if path.name.startswith("part-") and path.name not in listed:
                path.unlink()  # unfinished (temporary) or unlisted: redone
            elif _TMP in path.name:
                path.unlink()
        if not self.chunks:
            self.layout = None

    def done(self, index: int) -> bool:
        """Whether chunk ``index`` is finished and verified."""
        return index in self.chunks

    @property
    def rows_done(self) -> int:
        return sum(entry["stop"] - entry["start"] for entry in self.chunks.values())

    def record_layout(self, layout: dict[str, Any]) -> None:
        """Record the column layout (labels, features, outputs), or check it is unchanged.

        Raises
        ------
        InputError
            When a chunk's layout differs from the first one's.
        """
        if self.layout is None:
            self.layout = layout
        elif self.layout != layout:
            raise InputError(describe("model", "the same outputs for every chunk",
                                      got_text=f"{layout} after {self.layout}"))

    def add(self, index: int, start: int, stop: int, payload: bytes) -> None:
        """Write chunk ``index``'s part (temporary name, then rename) and list it."""
        name = part_name(start, stop)
        _write_atomic(self.directory / name, payload)
        self.chunks[index] = {"start": int(start), "stop": int(stop), "file": name,
                              "rows": int(stop - start), "sha256": _sha256(payload)}
        self.save()

    def manifest(self, summary: dict[str, Any] | None = None) -> dict[str, Any]:
        """The manifest as a dict."""
        from whylens import __version__

        out = {"format": FORMAT, "whylens_version": __version__, "job": self.job,
               "layout": self.layout, "n_chunks": self.n_chunks,
               "complete": len(self.chunks) == self.n_chunks,
               "chunks": {str(k): self.chunks[k] for k in sorted(self.chunks)}}
        if summary is not None:
            out["summary"] = summary
        return out

    def save(self, summary: dict[str, Any] | None = None) -> None:
        """Write the manifest (temporary name, then rename)."""
        text = json.dumps(self.manifest(summary), indent=1)
        _write_atomic(self.directory / MANIFEST, text.encode("utf-8"))

    # --------------------------------------------------------------- summary
    def summarize(self) -> dict[str, Any]:
        """Mean |value| per feature and label over every row, read back from the parts.

        Returns
        -------
        dict
            ``{"rows": n, "mean_abs": {label: {feature: value}}}``; also
            written to ``summary.json`` and the manifest.
        """
        _, _, pq, _ = pyarrow()
        layout = self.layout or {"labels": [], "features": []}
        if layout.get("kind") == "text":
            summary = self._summarize_text(layout)
        elif layout.get("kind") == "torch":
            from whylens.batch._torch_methods import summarize_torch

            summary = summarize_torch(
                (pq.read_table(self.directory / self.chunks[index]["file"],
                               columns=["label", "mean_abs"]) for index in sorted(self.chunks)),
                layout)
        else:
            names = [value_column(label, feature) for label in layout["labels"]
                     for feature in layout["features"]]
            total = np.zeros(len(names))
            rows = 0
            for index in sorted(self.chunks):
                table = pq.read_table(self.directory / self.chunks[index]["file"],
                                      columns=names)
                rows += table.num_rows
                for j, name in enumerate(names):
                    total[j] += np.abs(table.column(name).to_numpy()).sum()
            mean = total / max(rows, 1)
            d = len(layout["features"])
            summary = {"rows": rows, "mean_abs": {
                label: {feature: float(mean[i * d + j])
                        for j, feature in enumerate(layout["features"])}
                for i, label in enumerate(layout["labels"])}}
        _write_atomic(self.directory / SUMMARY, json.dumps(summary, indent=1).encode("utf-8"))
        self.save(summary)
        return summary

    def _summarize_text(self, layout: dict[str, Any]) -> dict[str, Any]:
        """Per label, the :data:`TOP_TOKENS` tokens of largest total |value|, with their
        mean |value| over the documents they occur in."""
        _, _, pq, _ = pyarrow()
        sums: list[dict[str, list[float]]] = [{} for _ in layout["labels"]]
        rows = 0
        for index in sorted(self.chunks):
            names = ["tokens", *(f"value:{label}" for label in layout["labels"])]
            table = pq.read_table(self.directory / self.chunks[index]["file"], columns=names)
            rows += table.num_rows
            tokens = table.column("tokens").to_pylist()
            for i, label in enumerate(layout["labels"]):
                totals = sums[i]
                for words, values in zip(tokens, table.column(f"value:{label}").to_pylist(),
                                         strict=True):
                    for word, value in zip(words, values, strict=True):
                        entry = totals.setdefault(word, [0.0, 0])
                        entry[0] += abs(value)
                        entry[1] += 1
        mean_abs = {}
        for label, totals in zip(layout["labels"], sums, strict=True):
            top = sorted(totals.items(), key=lambda item: -item[1][0])[:TOP_TOKENS]
            mean_abs[label] = {word: total / count for word, (total, count) in top}
        return {"rows": rows, "mean_abs": mean_abs}


def _difference(old: Any, new: dict[str, Any]) -> str:
    if not isinstance(old, dict):
        return "not a whylens job"
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "different " + ", ".join(keys) if keys else "another format"
