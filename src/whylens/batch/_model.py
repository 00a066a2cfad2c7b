"""Models named on the command line: ``package.module:factory``, skops files, pickles on trust.

Loading a joblib or pickle file runs code chosen by whoever wrote it, so it is
refused unless the caller says they trust the file. A skops file is loaded
with the types skops knows to be safe; any other type in it is named, and
loaded only with ``trust_model=True``.
"""

from __future__ import annotations

import hashlib
import importlib
import pickle
import sys
from pathlib import Path
from typing import Any

from whylens.batch._data import file_digest
from whylens.errors import InputError, MissingDependencyError, ModelError, describe

__all__ = ["load_model", "model_columns", "model_digest"]

_PICKLES = (".joblib", ".pkl", ".pickle")
_EXPECTED = ("package.module:factory, a scikit-learn model saved with skops (.skops), or a "
             "joblib/pickle file (.joblib, .pkl) with trust_model=True (--trust-model)")


def load_model(spec: str, *, trust_model: bool = False) -> tuple[Any, str]:
    """Load the model ``spec`` names.

    Parameters
    ----------
    spec : str
        ``package.module:factory`` (the factory is called without arguments; a
        non-callable attribute is the model itself), a ``.skops`` file, or a
        ``.joblib``/``.pkl``/``.pickle`` file.
    trust_model : bool, default=False
        Allow unpickling (joblib/pickle files; types skops does not trust).

    Returns
    -------
    (model, digest) : the model and a digest of where it came from (the file's
    bytes for a file; the pickled model for a factory).

    Raises
    ------
    InputError
        A spec of no known form, a missing file, or a file that needs trust.
    ModelError
        The factory raised.
    """
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in _PICKLES or suffix == ".skops":
        if not path.is_file():
            raise InputError(describe("model", f"an existing {suffix} file", spec))
        if suffix == ".skops":
            return _load_skops(path, trust_model), file_digest(path)
        if not trust_model:
            raise InputError(describe(
                "model", "a model file whylens may load without running its code", spec,
                "Loading a joblib/pickle file runs whatever code it holds: pass "
                "trust_model=True (--trust-model) only for a file you made or trust, or save "
                "the model with skops (skops.io.dump)."))
        import joblib

        return joblib.load(path), file_digest(path)
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise InputError(describe("model", _EXPECTED, spec))
    if "" not in sys.path and "." not in sys.path:  # as `python -m`: the working directory
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(describe("model", _EXPECTED, spec,
                                  f"Module {module_name!r} could not be imported: {exc}")) from exc
    try:
        target = getattr(module, attribute)
    except AttributeError as exc:
        raise InputError(describe("model", f"a factory named {attribute!r} in {module_name}",
                                  spec)) from exc
    if callable(target) and not (hasattr(target, "fit") or hasattr(target, "predict")):
        try:
            model = target()
        except Exception as exc:
            raise ModelError(f"model: the factory {spec} raised {type(exc).__name__}: "
                             f"{exc}") from exc
    else:
        model = target
    return model, model_digest(model)


def _load_skops(path: Path, trust_model: bool) -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:  # pragma: no cover - the scale extra is installed in CI
        raise MissingDependencyError('Loading a .skops model needs skops: pip install '
                                     '"whylens[scale]".') from exc
    untrusted = sio.get_untrusted_types(file=path)
    if untrusted and not trust_model:
        raise InputError(describe(
            "model", "a skops file holding only types skops trusts", str(path),
            got_text=f"{path} with the types {untrusted}",
            fix="Pass trust_model=True (--trust-model) if you trust these types."))
    return sio.load(path, trusted=untrusted or None)


def model_digest(model: Any) -> str:
    """A digest of the pickled model (its class name when it does not pickle)."""
    try:
        payload = pickle.dumps(model, protocol=5)
    except Exception:  # lambdas, local classes: the type is all we can record
        payload = f"{type(model).__module__}.{type(model).__qualname__}".encode()
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def model_columns(model: Any) -> tuple[list[str] | None, int | None]:
    """The column names (``feature_names_in_``) and count (``n_features_in_``) a model knows."""
    names = getattr(model, "feature_names_in_", None)
    count = getattr(model, "n_features_in_", None)
    names = None if names is None else [str(n) for n in names]
    count = None if count is None else int(count)
    return names, count
