"""The optional dependencies of whole-dataset jobs, imported on first use."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from whylens.errors import MissingDependencyError

__all__ = ["pyarrow", "ray"]

_HINT = 'Install the scale extra: pip install "whylens[scale]".'


def pyarrow() -> tuple[ModuleType, Any, Any, Any]:
    """Return ``(pyarrow, pyarrow.csv, pyarrow.parquet, pyarrow.dataset)``.

    Raises
    ------
    MissingDependencyError
        When pyarrow is not installed.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
        import pyarrow.dataset as pds
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - the scale extra is installed in CI
        raise MissingDependencyError(f"whylens.batch reads and writes tables with pyarrow, "
                                     f"which is not installed. {_HINT}") from exc
    return pa, pcsv, pq, pds


def ray() -> ModuleType:
    """Return the ``ray`` module.

    Raises
    ------
    MissingDependencyError
        When Ray is not installed.
    """
    try:
        import ray as ray_module
    except ImportError as exc:  # pragma: no cover - the scale extra is installed in CI
        raise MissingDependencyError(f"engine='ray' needs Ray, which is not installed. {_HINT} "
                                     "Or use engine='local'.") from exc
    return ray_module
