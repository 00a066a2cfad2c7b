"""``create_app`` and ``serve``: the workbench as an ASGI app and as a running server."""

from __future__ import annotations

import importlib
import ipaddress
import sys
import threading
import warnings
import webbrowser
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from whylens.app._served import Served
from whylens.app._server import Settings, build_app
from whylens.errors import InputError, InputTypeError, MissingDependencyError, describe

__all__ = ["create_app", "embedded_models", "load_model_spec", "serve"]

APP_FIX = 'Install the workbench with: pip install "whylens[app]"'


def _check_app_dependencies() -> None:
    import importlib.util

    for module in ("fastapi", "uvicorn", "PIL"):
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(describe(
                "workbench", "fastapi, uvicorn and Pillow installed",
                got_text=f"no module named {module!r}", fix=APP_FIX + "."))


def embedded_models(*, seed: int = 0, on_step: Any = None) -> dict[str, Served]:
    """The models ``whylens serve`` shows without arguments.

    EfficientNet-Lite0 (ImageNet weights from the ``demo`` extra) with
    scikit-image's photos; the demo's review classifier (text); the demo's
    breast-cancer random forest (table). A model whose optional dependencies
    are missing is left out with a warning.

    Returns
    -------
    dict of str to served model
    """
    from whylens.app import _embedded

    return _embedded.embedded_models(seed=seed, on_step=on_step)


def _as_served(name: str, value: Any) -> Served:
    if isinstance(value, Served):
        return value
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        torch = None
    if torch is not None and isinstance(value, torch.nn.Module):
        from whylens.app._vision import VisionModel

        return VisionModel(value, title=name)
    if isinstance(value, Mapping) and torch is not None \
            and isinstance(value.get("module"), torch.nn.Module):
        from whylens.app._vision import VisionModel

        allowed = {"module", "labels", "images", "preprocess", "size", "title",
                   "reshape_transform"}
        extra = sorted(set(value) - allowed)
        if extra:
            raise InputError(describe(f"models[{name!r}]", f"keys among {sorted(allowed)}",
                                      got_text=f"unknown keys {extra}"))
        kwargs = {k: v for k, v in value.items() if k != "module"}
        kwargs.setdefault("title", name)
        return VisionModel(value["module"], **kwargs)
    raise InputTypeError(describe(
        f"models[{name!r}]", "a VisionModel, TextModel or TabularModel, a torch.nn.Module, or "
        "a dict with 'module' (and 'labels', 'images', 'preprocess', 'size')", value))


def _as_models(models: Any) -> dict[str, Served]:
    if models is None:
        out = embedded_models()
        if not out:
            raise MissingDependencyError(describe(
                "models", "at least one embedded model", got_text="none could be loaded",
                fix='Install the extras: pip install "whylens[app,demo]".'))
        return out
    if isinstance(models, Mapping) and not ("module" in models and not isinstance(
            models.get("module"), (Mapping, Served))):
        if not models:
            raise InputError(describe("models", "at least one model", got_text="an empty dict"))
        out = {}
        for name, value in models.items():
            if not isinstance(name, str) or not name or "/" in name:
                raise InputError(describe("models", "names without '/'", name))
            out[name] = _as_served(name, value)
        return out
    return {"model": _as_served("model", models)}


def create_app(models: Any = None, *, max_queue: int = 8, timeout: float = 600.0,
               cache_bytes: int = 512 << 20, max_upload_bytes: int = 16 << 20,
               max_upload_pixels: int = 40_000_000, load_in_background: bool = False) -> Any:
    """The workbench as an ASGI app (for uvicorn, gunicorn, or tests).

    Parameters
    ----------
    models : None, a served model, a torch module, or a dict of name to those
        ``None``: the embedded models (:func:`embedded_models`). A
        ``torch.nn.Module`` is served as a :class:`~whylens.app.VisionModel`
        with default settings; a dict ``{"module": ..., "labels": ...,
        "images": ..., "preprocess": ..., "size": ...}`` gives them.
    max_queue : int, default=8
        Requests waiting per model; more are answered 503 with Retry-After.
    timeout : float, default=600
        Seconds one computation may run before it is stopped.
    cache_bytes : int, default=512 MiB
        Memory for results (least recently used dropped first).
    max_upload_bytes, max_upload_pixels : int
        Limits of an uploaded image (decompression bombs are refused).
    load_in_background : bool, default=False
        Load the models in a background thread: the page is served at once
        and requests that need a model wait for them (``whylens serve`` does
        this for the embedded models). A loading error is answered 503.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    MissingDependencyError
        fastapi, uvicorn or Pillow is missing.
    InputError, InputTypeError
        A model that cannot be served.
    """
    _check_app_dependencies()
    settings = Settings(max_queue=max_queue, timeout=timeout, cache_bytes=cache_bytes,
                        max_upload_bytes=max_upload_bytes, max_upload_pixels=max_upload_pixels)
    if load_in_background:
        return build_app(lambda: _as_models(models), settings)
    return build_app(_as_models(models), settings)


def load_model_spec(spec: str, *, trust_model: bool = False) -> dict[str, Served]:
    """Models named on the command line: ``package.module:factory`` or a saved torch module.

    ``package.module:factory`` imports the module and calls ``factory()``,
    which returns a torch module, a dict for :class:`VisionModel` (``module``,
    ``labels``, ``images``, ``preprocess``, ``size``), a served model, or a
    dict of name to those. A file (``.pt``/``.pth``) is a pickled module and
    is loaded only with ``trust_model=True`` (unpickling runs code).

    Returns
    -------
    dict of str to served model

    Raises
    ------
    InputError
        A malformed spec, a missing module or factory, or a pickle without
        ``trust_model``.
    """
    if not isinstance(spec, str) or not spec:
        raise InputError(describe("--model", "package.module:factory or a .pt file", spec))
    path = Path(spec)
    if path.suffix in (".pt", ".pth", ".pkl", ".pickle", ".joblib"):
        if not trust_model:
            raise InputError(describe(
                "--model", "package.module:factory (a pickle file runs code when loaded)",
                got_text=f"the file {spec}",
                fix="Pass --trust-model if you trust this file, or write a factory."))
        if path.suffix not in (".pt", ".pth"):
            raise InputError(describe("--model", "a .pt/.pth torch module file", spec))
        if not path.is_file():
            raise InputError(describe("--model", "an existing file", spec))
        import torch

        module = torch.load(path, map_location="cpu", weights_only=False)
        return _as_models({path.stem: module})
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr.isidentifier():
        raise InputError(describe("--model", "package.module:factory", spec,
                                  "For example mypkg.models:make_model."))
    sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(describe("--model", "an importable module", module_name,
                                  f"Import failed: {exc}")) from exc
    finally:
        sys.path.pop(0)
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise InputError(describe("--model", f"a callable {attr!r} in {module_name}",
                                  got_text="nothing callable by that name"))
    made = factory()
    if isinstance(made, Mapping) and "module" not in made:
        return _as_models(made)
    return _as_models({attr: made})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(models: Any = None, *, host: str = "127.0.0.1", port: int = 8000,
          open_browser: bool = True, log_level: str = "warning", **settings: Any) -> None:
    """Run the workbench until interrupted.

    Parameters
    ----------
    models
        As :func:`create_app`.
    host : str, default="127.0.0.1"
        Bind address. Anything else than a loopback address exposes the
        models (and their compute) to the network: a warning says so.
    port : int, default=8000
    open_browser : bool, default=True
        Open the page in the default browser once the server listens.
    log_level : str
        uvicorn's log level.
    **settings
        :func:`create_app`'s limits.

    Raises
    ------
    MissingDependencyError
        fastapi, uvicorn or Pillow is missing.
    """
    _check_app_dependencies()
    import uvicorn

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InputError(describe("port", "an int in [0, 65535]", port))
    if not _is_loopback(host):
        warnings.warn(f"whylens serve: binding {host}, not 127.0.0.1: anyone who can reach "
                      "this address can run the served models.", UserWarning, stacklevel=2)
    settings.setdefault("load_in_background", models is None)
    app = create_app(models, **settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/"
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level)
    server = uvicorn.Server(config)

    def announce() -> None:
        import time

        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(f"whylens workbench: {url}  (Ctrl+C stops it)", flush=True)
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
