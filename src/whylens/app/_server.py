"""The workbench's HTTP API and page (FastAPI).

Routes (JSON unless said otherwise):

``GET /``                                      the page (static files shipped in the package)
``GET /static/{file}``                         its scripts and styles (a fixed list, no paths)
``GET /api/models``                            ``[{"name", "kind", "title"}]``
``GET /api/models/{model}``                    the model's info (layers, modes, images, rows ...)
``POST /api/models/{model}/images``            upload an image (raw body) -> ``{"id", "name"}``
``GET /api/models/{model}/images/{id}.png``    a stored image, as the model sees it
``POST /api/models/{model}/explain``           plan and queue a computation -> job (and result)
``GET /api/jobs/{id}``                         a job's state (and result when done)
``GET /api/jobs/{id}/events``                  its progress as server-sent events
``POST /api/jobs/{id}/cancel``                 stop it
``GET /api/jobs/{id}/result.png|.json|.html``  the result as a picture, Explanation JSON, report

Explain bodies (``mode`` always; ``target`` a class index, default the top class;
``params`` checked against the mode's schema in the model's info):

- vision: ``{"image": id, "mode": "predict" | <mode>, "layer": name, "target", "params"}``;
  ``predict`` gives ``{"classes": [{"index", "label", "p"}]}``, the other modes
  ``{mode, layer, target, target_label, seconds, width, height, ...}`` plus their facts
  (feature maps: ``n_channels, page, pages, channels, means, spatial``; heat maps:
  ``min, max, n_evals``; LIME: ``top, n_segments, score``; ``trust`` when asked).
- text: ``{"mode": "predict" | "lime" | "shap" | "integrated_gradients", "text",
  "tokenizer", "target", "params"}``; results carry ``tokens: [{text, start, end,
  weight}]`` (character offsets into the text) and ``classes``.
- tabular: ``{"mode": "predict" | "shap" | "lime" | "global", "row": index or
  "values": [numbers] (what-if), "target", "params"}``; results carry ``classes``,
  ``base_value``, ``output_value`` and ``features: [{name, value, weight}]``.

A job is ``{"job": {id, model, state, done, total, error}, "result": null | {...facts,
"png", "json", "html"}}`` (the last three are URLs). Bad input is a 4xx with
``{"error": message}``; a full queue is 503 with ``Retry-After``. The explain
body may carry ``"wait": seconds`` (at most 30): the answer then comes when the
job ends or the wait runs out, whichever is first, saving a round trip for
quick views.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import threading
import time
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from whylens.app._images import decode_upload, square_resize
from whylens.app._jobs import Job, QueueFull, ResultCache, WorkerPool
from whylens.app._served import Result, Served
from whylens.errors import InputError, InputTypeError, WhylensError, describe

__all__ = ["STATIC_FILES", "Settings", "build_app"]

#: Files of the page, served by name only (no request path reaches the file system).
STATIC_FILES = {"index.html": "text/html; charset=utf-8",
                "app.js": "text/javascript; charset=utf-8",
                "app.css": "text/css; charset=utf-8"}


class Settings:
    """Limits of one workbench.

    Parameters
    ----------
    max_queue : int, default=8
        Requests waiting per model; more get 503.
    timeout : float, default=600
        Seconds one computation may run.
    cache_bytes : int, default=512 MiB
        Results kept in memory.
    max_upload_bytes : int, default=16 MiB
    max_upload_pixels : int, default=40 million
    """

    def __init__(self, *, max_queue: int = 8, timeout: float = 600.0,
                 cache_bytes: int = 512 << 20, max_upload_bytes: int = 16 << 20,
                 max_upload_pixels: int = 40_000_000, max_body_bytes: int = 1 << 20) -> None:
        self.max_queue = int(max_queue)
        self.timeout = float(timeout)
        self.cache_bytes = int(cache_bytes)
        self.max_upload_bytes = int(max_upload_bytes)
        self.max_upload_pixels = int(max_upload_pixels)
        self.max_body_bytes = int(max_body_bytes)


def _size_of(value: Any) -> int:
    if isinstance(value, Result):
        return value.nbytes
    return Result(value).nbytes


def _static(name: str) -> bytes:
    return resources.files("whylens.app").joinpath("static", name).read_bytes()


def _result_view(job: Job, result: Any) -> dict[str, Any] | None:
    if not isinstance(result, Result):
        return None
    out = dict(result.meta)
    base = f"/api/jobs/{job.id}/result"
    out["png"] = f"{base}.png" if (result.png is not None or result.draw_png) else None
    out["json"] = f"{base}.json" if result.explanation is not None else None
    out["html"] = f"{base}.html"
    return out


def _report_html(result: Result, model_name: str) -> str:
    """A standalone HTML report of one result: picture, facts, and the explanation's view."""
    from whylens.render.html import page

    e = html.escape
    parts = []
    try:
        data = base64.b64encode(result.picture()).decode("ascii")
        parts.append(f"<img alt='{e(result.title)}' src='data:image/png;base64,{data}' "
                     "style='max-width:100%'>")
    except LookupError:
        pass
    rows = "".join(
        f"<tr><th style='text-align:left'>{e(str(k))}</th><td>{e(json.dumps(v)[:400])}</td></tr>"
        for k, v in result.meta.items())
    parts.append(f"<table class='wl-table'>{rows}</table>")
    exp = result.explanation
    if exp is not None and getattr(exp.features, "kind", None) in ("text", "tabular"):
        try:
            from whylens.render.html import explanation_html

            parts.append(explanation_html(exp))
        except WhylensError:
            pass
    parts.append(f"<p style='color:#666'>model {e(model_name)} · whylens workbench · "
                 f"{e(time.strftime('%Y-%m-%d %H:%M:%S'))}</p>")
    return page(result.title, parts)


class _Models:
    """The served models: given, or loaded by ``loader()`` in a background thread.

    With a loader the page is served at once while the models load; every
    request that needs a model waits for them (up to ``timeout`` seconds).
    """

    def __init__(self, models: Mapping[str, Served] | Callable[[], Mapping[str, Served]],
                 timeout: float = 300.0) -> None:
        self.models: dict[str, Served] = {}
        self.timeout = timeout
        self._ready = threading.Event()
        self._error: BaseException | None = None
        if callable(models):
            threading.Thread(target=self._load, args=(models,), name="whylens-app-load",
                             daemon=True).start()
        else:
            self.models.update(models)
            self._ready.set()

    def _load(self, loader: Callable[[], Mapping[str, Served]]) -> None:
        try:
            self.models.update(loader())
        except BaseException as exc:  # shown to every request
            self._error = exc
        finally:
            self._ready.set()

    def wait(self) -> dict[str, Served]:
        """The models, once loaded.

        Raises
        ------
        _Unavailable
            Loading failed, or took longer than ``timeout`` (answered 503).
        """
        if not self._ready.wait(self.timeout):
            raise _Unavailable(f"the models are still loading after {self.timeout:g} s; "
                               "ask again")
        if self._error is not None:
            raise _Unavailable(f"loading the models failed: {self._error}") from self._error
        return self.models


def build_app(models: Mapping[str, Served] | Callable[[], Mapping[str, Served]],
              settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app serving ``models``.

    ``models`` may be a loader, ``loader() -> {name: model}``: it then runs in
    a background thread, the page is served at once, and requests that need a
    model wait for it.

    Returns
    -------
    fastapi.FastAPI
        With ``app.state.pool`` (the workers and cache) and ``app.state.models``.
    """
    settings = settings or Settings()
    cache = ResultCache(settings.cache_bytes, _size_of)
    registry = _Models(models)
    pool = WorkerPool(list(registry.models), settings.max_queue, cache, settings.timeout)
    static = {name: _static(name) for name in STATIC_FILES}

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        yield
        pool.stop()

    app = FastAPI(title="whylens workbench", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json", lifespan=lifespan)
    app.state.pool = pool
    app.state.models = registry.models  # filled in place when a loader finishes
    app.state.registry = registry
    app.state.settings = settings

    def error(status: int, message: str, **headers: str) -> JSONResponse:
        return JSONResponse({"error": " ".join(str(message).split())}, status_code=status,
                            headers=headers or None)

    @app.exception_handler(WhylensError)
    async def whylens_error(request: Request, exc: WhylensError) -> JSONResponse:
        return error(400, str(exc))

    @app.exception_handler(QueueFull)
    async def queue_full(request: Request, exc: QueueFull) -> JSONResponse:
        return error(503, str(exc), **{"Retry-After": str(exc.retry_after)})

    def served(name: str) -> Served:
        models = registry.wait()
        model = models.get(name)
        if model is None:
            raise _NotFound(f"model: expected one of {sorted(models)}, got {name!r}.")
        return model

    @app.exception_handler(_Unavailable)
    async def unavailable(request: Request, exc: _Unavailable) -> JSONResponse:
        return error(503, str(exc), **{"Retry-After": "5"})

    @app.exception_handler(LookupError)
    async def not_found(request: Request, exc: LookupError) -> JSONResponse:
        return error(404, str(exc.args[0]) if exc.args else "not found")

    async def json_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > settings.max_body_bytes:
            raise InputError(describe("body", f"at most {settings.max_body_bytes} bytes of JSON",
                                      got_text=f"{len(raw)} bytes"))
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, RecursionError) as exc:
            raise InputError(describe("body", "a JSON object",
                                      got_text=f"malformed JSON ({type(exc).__name__})",
                                      fix='Send e.g. {"mode": "gradcam", "image": "<id>"}.')
                             ) from None
        if not isinstance(body, dict):
            raise InputTypeError(describe("body", "a JSON object", body))
        return body

    # ------------------------------------------------------------------ the page
    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(static["index.html"], media_type=STATIC_FILES["index.html"],
                        headers={"Cache-Control": "no-cache"})

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        if name not in static:
            raise _NotFound(f"static file: expected one of {sorted(static)}, got {name!r}.")
        return Response(static[name], media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "no-cache"})

    # ------------------------------------------------------------------ models
    @app.get("/api/models")
    def list_models() -> list[dict[str, Any]]:
        return [{"name": n, "kind": m.kind, "title": m.title}
                for n, m in registry.wait().items()]

    @app.get("/api/models/{name}")
    def model_info(name: str) -> dict[str, Any]:
        model = served(name)
        return {"name": name, **model.info()}

    @app.post("/api/models/{name}/images")
    async def upload(name: str, request: Request) -> dict[str, Any]:
        model = served(name)
        if model.kind != "vision":
            raise InputError(describe("model", "a vision model", got_text=f"a {model.kind} "
                                      "model", fix="Images go to the vision models."))
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.max_upload_bytes:
            raise InputError(describe("image", f"at most {settings.max_upload_bytes:,} bytes",
                                      got_text=f"{int(length):,} bytes",
                                      fix="Upload a smaller image."))
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > settings.max_upload_bytes:
                raise InputError(describe("image", f"at most {settings.max_upload_bytes:,} "
                                          "bytes", got_text="a larger body",
                                          fix="Upload a smaller image."))
        pixels = await asyncio.to_thread(decode_upload, bytes(data),
                                         max_bytes=settings.max_upload_bytes,
                                         max_pixels=settings.max_upload_pixels)
        stored = model.images.add(square_resize(pixels, model.size), "upload")  # type: ignore[attr-defined]
        return {"id": stored.digest, "name": stored.name}

    @app.get("/api/models/{name}/images/{image_id}.png")
    def image_png(name: str, image_id: str) -> Response:
        model = served(name)
        store = getattr(model, "images", None)
        image = store.get(image_id) if store is not None else None
        if image is None:
            raise _NotFound(f"image: no image {image_id!r} in model {name!r}.")
        return Response(image.png, media_type="image/png",
                        headers={"Cache-Control": "max-age=3600"})

    # ------------------------------------------------------------------ jobs
    def job_view(job: Job) -> dict[str, Any]:
        return {"job": job.view(), "result": _result_view(job, pool.result(job))}

    @app.post("/api/models/{name}/explain")
    async def explain(name: str, request: Request) -> JSONResponse:
        model = served(name)
        body = await json_body(request)
        wait = body.pop("wait", 0)
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait <= 30:
            raise InputError(describe("wait", "seconds in [0, 30]", wait))
        plan = model.plan(body, cache)
        job = pool.submit(name, (name, *plan.key), plan.run)
        if wait and not job.finished_flag:
            await asyncio.to_thread(job.wait, float(wait))
        return _job_response(job)

    def _job_response(job: Job) -> JSONResponse:
        view = job_view(job)
        if job.state == "error":
            return JSONResponse({"error": job.error, **view}, status_code=job.status)
        return JSONResponse(view)

    def find_job(job_id: str) -> Job:
        job = pool.get(job_id)
        if job is None:
            raise _NotFound(f"job: no job {job_id!r} (finished jobs are forgotten after a "
                            "while; ask again).")
        return job

    @app.get("/api/jobs/{job_id}")
    def job_state(job_id: str) -> JSONResponse:
        return _job_response(find_job(job_id))

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(job_id: str) -> dict[str, Any]:
        job = find_job(job_id)
        job.cancel()
        return job_view(job)

    @app.get("/api/jobs/{job_id}/events")
    async def events(job_id: str, request: Request) -> StreamingResponse:
        job = find_job(job_id)

        async def stream() -> Any:
            last = None
            while True:
                view = job_view(job)
                if job.state == "error":
                    view["error"] = job.error
                state = (job.state, job.done, job.total)
                if state != last:
                    last = state
                    yield f"data: {json.dumps(view)}\n\n"
                if job.finished_flag:
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.05)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    def finished_result(job_id: str) -> tuple[Job, Result]:
        job = find_job(job_id)
        result = pool.result(job)
        if not isinstance(result, Result):
            if job.state == "done":
                raise _NotFound(f"result: the result of job {job_id!r} is no longer kept; "
                                "ask for it again.")
            raise _NotFound(f"result: job {job_id!r} is {job.state}, not done.")
        return job, result

    @app.get("/api/jobs/{job_id}/result.png")
    def result_png(job_id: str) -> Response:
        _, result = finished_result(job_id)
        try:
            data = result.picture()
        except LookupError:
            raise _NotFound(f"result: job {job_id!r} has no picture.") from None
        return Response(data, media_type="image/png",
                        headers={"Cache-Control": "max-age=3600",
                                 "Content-Disposition": f'inline; filename="whylens-{job_id}.png"'})

    @app.get("/api/jobs/{job_id}/result.json")
    def result_json(job_id: str) -> Response:
        _, result = finished_result(job_id)
        if result.explanation is None:
            raise _NotFound(f"result: job {job_id!r} has no explanation.")
        return Response(result.explanation.to_json(), media_type="application/json",
                        headers={"Content-Disposition":
                                 f'attachment; filename="whylens-{job_id}.json"'})

    @app.get("/api/jobs/{job_id}/result.html")
    def result_html(job_id: str) -> Response:
        job, result = finished_result(job_id)
        return Response(_report_html(result, job.model), media_type="text/html; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="whylens-{job_id}.html"'})

    return app


class _NotFound(LookupError):
    """A 404: unknown model, image, job or file."""


class _Unavailable(Exception):
    """A 503: the models could not be loaded (yet)."""
