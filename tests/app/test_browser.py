"""The workbench page in a real browser (Playwright driving the system's Chromium, headless).

The embedded models are served once per module by uvicorn on a free 127.0.0.1 port. Each
test opens the page in a fresh browser context, fails on any console error or uncaught page
error, and leaves a screenshot in ``tests/app/screenshots/``.

Skipped when the ``playwright`` package or ``/usr/bin/chromium`` is missing, unless the
environment variable ``CI`` is set (then those are failures).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM}"
    for module in ("fastapi", "uvicorn", "torch", "PIL"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed"
    return None


_WHY = _missing()
if _WHY is not None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {_WHY}", pytrace=False)
    pytest.skip(f"browser tests skipped: {_WHY}", allow_module_level=True)

import uvicorn  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

TIMEOUT = 60_000  # ms: a slow shared CPU runs the model
expect.set_options(timeout=TIMEOUT)


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def server():
    """The workbench on the embedded models, served by uvicorn in a thread."""
    import warnings

    from whylens.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app()
    models = {m["name"]: m["kind"] for m in _models(app)}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the workbench did not start")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}/", "models": models}
    srv.should_exit = True
    thread.join(20)
    sock.close()


def _models(app) -> list[dict]:
    return [{"name": n, "kind": m.kind} for n, m in app.state.models.items()]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server, request):
    """A fresh page at 1280x800; the test fails on a console error; a screenshot is kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
          if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    pg.server = server  # type: ignore[attr-defined]
    pg.expected_errors = []  # type: ignore[attr-defined]  # regexes a test expects
    yield pg
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    unexpected = [e for e in errors
                  if not any(re.search(x, e) for x in pg.expected_errors)]  # type: ignore[attr-defined]
    assert not unexpected, "errors in the browser console:\n" + "\n".join(unexpected)


def _model_of(page: Page, kind: str) -> str:
    names = [n for n, k in page.server["models"].items() if k == kind]  # type: ignore[attr-defined]
    if not names:
        pytest.skip(f"no {kind} model is served (its optional dependencies are missing)")
    return names[0]


def _open(page: Page, kind: str) -> str:
    name = _model_of(page, kind)
    page.goto(page.server["url"] + f"#model={name}")  # type: ignore[attr-defined]
    expect(page.get_by_test_id(f"{kind}-view")).to_be_visible()
    return name


# ---------------------------------------------------------------------- vision helpers
def panel(page: Page, i: int):
    return page.get_by_test_id(f"panel-{i}")


def wait_picture(page: Page, i: int, **expected: str) -> None:
    """Wait until panel ``i`` shows a loaded picture whose data-* attributes match ``expected``."""
    p = panel(page, i)
    for key, value in expected.items():
        expect(p).to_have_attribute(f"data-{key}", value)
    expect(p).to_have_attribute("data-state", "done")
    width = p.get_by_test_id("result-img").evaluate("img => img.complete ? img.naturalWidth : 0")
    assert width > 0


def click_layer(page: Page, name: str) -> None:
    """Click the box of a layer, expanding the blocks above it first."""
    parts = name.split(".")
    for k in range(1, len(parts)):
        parent = ".".join(parts[:k])
        toggle = page.get_by_test_id(f"toggle-{parent}")
        if toggle.count() and not toggle.is_visible():
            continue
        box = page.get_by_test_id(f"layer-{parent}")
        if toggle.count() and box.is_visible() and \
                page.locator(f'[data-testid="layer-{parent}"] ~ .children').is_hidden():
            toggle.click()
    page.get_by_test_id(f"layer-{name}").click()


def set_param(page: Page, i: int, name: str, value) -> None:
    control = panel(page, i).get_by_test_id(f"param-{name}")
    if control.evaluate("e => e.tagName") == "SELECT":
        control.select_option(label=str(value))
    else:
        control.fill(str(value))
        control.press("Tab")


def select_mode(page: Page, i: int, mode: str) -> None:
    panel(page, i).get_by_test_id("mode-select").select_option(mode)


def open_vision(page: Page) -> str:
    name = _open(page, "vision")
    wait_picture(page, 0)
    wait_picture(page, 1)
    expect(page.get_by_test_id("classes").locator("li")).to_have_count(5)
    return name


# ---------------------------------------------------------------------- vision tests
def test_page_opens_with_the_network_and_two_panels(page):
    name = open_vision(page)
    info = json.loads(page.evaluate(f"fetch('/api/models/{name}').then(r => r.text())"))
    boxes = page.get_by_test_id("layer-tree").locator(".box")
    assert boxes.count() == len(info["layers"])
    default = page.get_by_test_id(f"layer-{info['default_layer']}")
    expect(default).to_be_visible()
    expect(default).to_have_class(re.compile(r"\bselected\b"))
    assert page.locator(".box.spatial").count() == sum(x["spatial"] for x in info["layers"])
    # the two panels: feature maps and Grad-CAM of the default layer
    expect(panel(page, 0)).to_have_attribute("data-mode", "feature_maps")
    expect(panel(page, 1)).to_have_attribute("data-mode", "gradcam")
    expect(panel(page, 1)).to_have_attribute("data-layer", info["default_layer"])
    for i in (0, 1):
        exports = panel(page, i).get_by_test_id("exports")
        expect(exports.get_by_test_id("export-png")).to_have_attribute(
            "href", re.compile(r"\.png$"))
        expect(exports.get_by_test_id("export-html")).to_be_visible()
        expect(exports.get_by_test_id("export-json")).to_be_visible()
    # depth buttons fold the diagram; the search opens the blocks holding a match
    page.get_by_test_id("depth-1").click()
    expect(page.get_by_test_id("layer-net._blocks.4")).to_be_hidden()
    expect(default).to_be_visible()  # the panels' layers stay in sight
    page.get_by_test_id("layer-search").fill("blocks.4._project_conv")
    hit = page.get_by_test_id("layer-net._blocks.4._project_conv")
    expect(hit).to_be_visible()
    expect(hit).to_have_class(re.compile(r"\bhit\b"))
    page.get_by_test_id("layer-search").fill("")
    page.get_by_test_id("depth-9").click()
    expect(page.get_by_test_id("layer-net._blocks.15._bn2")).to_be_visible()
    # the image picker: bundled photos as loaded thumbnails
    thumbs = page.get_by_test_id("images").locator("img")
    assert thumbs.count() == len(info["images"])
    assert all(thumbs.nth(k).evaluate("i => i.naturalWidth") > 0 for k in range(thumbs.count()))


def test_click_a_layer_shows_its_feature_maps_and_pages(page):
    open_vision(page)
    page.get_by_test_id("panel-0").get_by_test_id("panel-layer").click()  # panel A active
    click_layer(page, "net._blocks.10")
    wait_picture(page, 0, mode="feature_maps", layer="net._blocks.10")
    p = panel(page, 0)
    expect(p.get_by_test_id("fact-channels")).to_contain_text("112")
    expect(p.get_by_test_id("page-label")).to_have_text("page 1 / 4")
    first = p.get_by_test_id("result-img").get_attribute("src")
    p.get_by_test_id("page-next").click()
    expect(p.get_by_test_id("page-label")).to_have_text("page 2 / 4")
    wait_picture(page, 0, layer="net._blocks.10")
    assert p.get_by_test_id("result-img").get_attribute("src") != first
    set_param(page, 0, "order", "index")
    expect(p.get_by_test_id("page-label")).to_have_text("page 1 / 4")
    wait_picture(page, 0)
    # the diagram marks the clicked layer for panel A
    expect(page.get_by_test_id("layer-net._blocks.10")).to_have_class(re.compile(r"\bselected\b"))


def test_click_a_layer_runs_gradcam_there(page):
    open_vision(page)
    panel(page, 1).get_by_test_id("panel-layer").click()  # panel B active
    click_layer(page, "net._blocks.5")
    wait_picture(page, 1, mode="gradcam", layer="net._blocks.5")
    expect(panel(page, 1).get_by_test_id("fact-range")).to_be_visible()
    # panel A kept its layer
    expect(panel(page, 0)).not_to_have_attribute("data-layer", "net._blocks.5")


def test_trust_check_shows_deletion_and_insertion_beside_chance(page):
    open_vision(page)
    select_mode(page, 0, "gradcam")
    wait_picture(page, 0, mode="gradcam")
    panel(page, 0).get_by_test_id("param-trust").check()
    expect(panel(page, 0).get_by_test_id("fact-insertion")).to_contain_text("random",
                                                                            timeout=60_000)
    expect(panel(page, 0).get_by_test_id("fact-deletion")).to_contain_text("random")
    # Grad-CAM's control: smooth random maps at its layer's scale
    expect(panel(page, 0).get_by_test_id("fact-control")).to_contain_text("smooth")
    expect(panel(page, 0).get_by_test_id("trust-note")).to_contain_text("insertion")
    wait_picture(page, 0)


# small parameters so that every mode runs in seconds on a CPU
MODES = {
    "filter_patterns": {"count": 2, "steps": 4, "size": 32},
    "gradcam++": {}, "hirescam": {}, "layercam": {}, "eigencam": {},
    "scorecam": {}, "ablationcam": {},
    "layer_gradient_shap": {"n_samples": 2},
    "integrated_gradients": {"n_steps": 8},
    "smoothgrad": {"nt_samples": 4},
    "lime": {"num_samples": 50, "segmentation": "slic"},
}


def test_every_mode_shows_its_picture(page):
    open_vision(page)
    modes = [o.get_attribute("value") for o in
             panel(page, 1).get_by_test_id("mode-select").locator("option").all()]
    assert set(MODES) | {"feature_maps", "gradcam"} == set(modes)
    panel(page, 1).get_by_test_id("panel-layer").click()
    click_layer(page, "net._blocks.0")  # 16 channels: Score-CAM and Ablation-CAM stay small
    wait_picture(page, 1, layer="net._blocks.0")
    for mode, params in MODES.items():
        select_mode(page, 1, mode)
        for name, value in params.items():
            set_param(page, 1, name, value)
        panel(page, 1).get_by_test_id("run").click()
        wait_picture(page, 1, mode=mode)
        facts = panel(page, 1).get_by_test_id("facts")
        expect(facts.get_by_test_id("fact-seconds")).to_be_visible()


def test_clicking_a_class_retargets_every_panel(page):
    open_vision(page)
    select_mode(page, 0, "layercam")
    wait_picture(page, 0, mode="layercam")
    classes = page.get_by_test_id("classes").locator("li")
    top = classes.nth(0).get_attribute("data-index")
    second = classes.nth(2).get_attribute("data-index")
    expect(panel(page, 1)).to_have_attribute("data-target", top)
    before = panel(page, 1).get_by_test_id("result-img").get_attribute("src")
    classes.nth(2).click()
    expect(classes.nth(2)).to_have_class(re.compile(r"\bselected\b"))
    for i in (0, 1):
        wait_picture(page, i, target=second)
    label = classes.nth(2).locator(".class-label").inner_text()
    expect(panel(page, 1).get_by_test_id("facts")).to_contain_text(label)
    assert panel(page, 1).get_by_test_id("result-img").get_attribute("src") != before
    page.get_by_test_id("target-reset").click()
    wait_picture(page, 1, target=top)


def test_cancel_a_lime_run(page):
    open_vision(page)
    select_mode(page, 1, "lime")
    expect(panel(page, 1)).to_have_attribute("data-state", "pending")
    set_param(page, 1, "num_samples", 10000)
    panel(page, 1).get_by_test_id("run").click()
    progress = panel(page, 1).get_by_test_id("progress")
    expect(progress).to_be_visible()
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=panel-1] [data-testid=progress]')"
        ".dataset.done) > 0")
    # the page stays responsive meanwhile: panel A answers a click (its job waits in the
    # model's queue behind LIME, one computation per model at a time)
    panel(page, 0).get_by_test_id("panel-layer").click()
    click_layer(page, "net._blocks.3")
    expect(panel(page, 0).get_by_test_id("panel-layer")).to_contain_text("net._blocks.3")
    expect(panel(page, 0)).to_have_attribute("data-state", re.compile("queued|loading|running"))
    panel(page, 1).get_by_test_id("cancel").click()
    expect(panel(page, 1)).to_have_attribute("data-state", "cancelled")
    expect(panel(page, 1).get_by_test_id("status")).to_contain_text("Cancelled")
    expect(progress).to_be_hidden()
    job = panel(page, 1).get_attribute("data-job")
    state = page.evaluate("id => fetch('/api/jobs/' + id).then(r => r.json())", job)
    assert state["job"]["state"] == "cancelled"
    assert state["job"]["done"] < state["job"]["total"]
    wait_picture(page, 0, layer="net._blocks.3")


def test_two_panels_compare_two_layers_and_two_modes(page):
    open_vision(page)
    # Grad-CAM at two layers
    select_mode(page, 0, "gradcam")
    panel(page, 0).get_by_test_id("panel-layer").click()
    click_layer(page, "net._blocks.8")
    wait_picture(page, 0, mode="gradcam", layer="net._blocks.8")
    wait_picture(page, 1, mode="gradcam")
    src = [panel(page, i).get_by_test_id("result-img").get_attribute("src") for i in (0, 1)]
    assert src[0] != src[1]
    assert panel(page, 1).get_attribute("data-layer") != "net._blocks.8"
    # then Grad-CAM against SmoothGrad
    select_mode(page, 1, "smoothgrad")
    set_param(page, 1, "nt_samples", 4)
    panel(page, 1).get_by_test_id("run").click()
    wait_picture(page, 1, mode="smoothgrad")
    wait_picture(page, 0, mode="gradcam")
    expect(panel(page, 1).get_by_test_id("panel-layer")).to_contain_text("no layer")


def test_upload_an_image(page, tmp_path):
    import numpy as np
    from PIL import Image

    open_vision(page)
    rng = np.random.default_rng(0)
    pixels = np.zeros((180, 260, 3), np.uint8)
    pixels[40:140, 60:200] = (200, 40, 30)
    pixels += rng.integers(0, 30, size=pixels.shape, dtype=np.uint8)
    path = tmp_path / "red box.png"
    Image.fromarray(pixels).save(path)
    before = page.get_by_test_id("images").locator(".thumb").count()
    page.get_by_test_id("upload").set_input_files(str(path))
    expect(page.get_by_test_id("images").locator(".thumb")).to_have_count(before + 1)
    expect(page.get_by_test_id("images").locator(".thumb.selected")).to_contain_text("red box")
    expect(page.get_by_test_id("classes").locator("li")).to_have_count(5)
    wait_picture(page, 0)
    wait_picture(page, 1)


def test_errors_show_in_the_panel_as_text(page, tmp_path):
    open_vision(page)
    # a flat layer for a layer mode: said in the panel, nothing sent
    panel(page, 1).get_by_test_id("panel-layer").click()
    click_layer(page, "net._fc")
    expect(panel(page, 1)).to_have_attribute("data-state", "error")
    status = panel(page, 1).get_by_test_id("status")
    expect(status).to_contain_text("spatial map")
    expect(status).to_contain_text("net._fc")
    image = panel(page, 1).get_by_test_id("result-img")
    expect(image).not_to_have_attribute("src", re.compile("."))
    click_layer(page, "net._blocks.12")
    wait_picture(page, 1, layer="net._blocks.12")
    expect(status).to_be_hidden()
    # a text file named .png: the server's 400 and its message, shown where the upload is
    page.expected_errors.append(r"status of 400")  # type: ignore[attr-defined]
    bad = tmp_path / "notes.png"
    bad.write_text("not an image at all", encoding="utf-8")
    page.get_by_test_id("upload").set_input_files(str(bad))
    expect(page.locator(".upload-status.error")).to_contain_text("image")
    expect(page.get_by_test_id("images").locator(".thumb.selected")).to_contain_text("chelsea")


def test_download_a_report(page):
    open_vision(page)
    links = panel(page, 1).get_by_test_id("exports")
    with page.expect_download() as info:
        links.get_by_test_id("export-html").click()
    html = Path(info.value.path()).read_text(encoding="utf-8")
    assert info.value.suggested_filename.endswith(".html")
    assert "<html" in html.lower() and "Grad-CAM" in html and "data:image/png;base64," in html
    with page.expect_download() as info:
        links.get_by_test_id("export-json").click()
    data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data
    with page.expect_download() as info:
        links.get_by_test_id("export-png").click()
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------- text
def test_text_tab_highlights_korean_morphemes(page):
    name = _open(page, "text")
    info = json.loads(page.evaluate(f"fetch('/api/models/{name}').then(r => r.text())"))
    if "kiwi" not in info["tokenizers"]:
        pytest.skip("the kiwi tokenizer (kiwipiepy) is not installed")
    # the embedded review model knows English words: the Korean morphemes around them get
    # (near) zero weight, the English words of opposite sentiment opposite signs
    sentence = ("이 영화는 정말 wonderful 했고 배우들의 연기도 brilliant 했지만 "
                "결말은 boring 했어요.")
    page.get_by_test_id("text-input").fill(sentence)
    page.get_by_test_id("tokenizer").select_option("kiwi")
    page.get_by_test_id("text-run").click()
    modes = [m["name"] for m in info["modes"] if m["name"] != "predict"]
    assert {"lime", "shap"} <= set(modes)
    for mode in modes:
        p = page.get_by_test_id(f"panel-{mode}")
        expect(p).to_have_attribute("data-state", "done", timeout=180_000)  # IG: net training
        tokens = p.get_by_test_id(f"tokens-{mode}")
        expect(tokens).to_have_text(sentence)
        spans = tokens.get_by_test_id("token")
        texts = spans.all_inner_texts()
        weights = {t: float(w) for t, w in zip(texts, spans.evaluate_all(
            "s => s.map(e => e.dataset.weight)"), strict=True)}
        colours = dict(zip(texts, spans.evaluate_all(
            "s => s.map(e => getComputedStyle(e).backgroundColor)"), strict=True))
        if mode in ("lime", "shap"):  # kiwi's morphemes (IG keeps its network's words)
            assert len(texts) > len(sentence.split())  # finer than the words
            assert "배우" in texts and "연기" in texts and "했" in texts
            assert weights["wonderful"] * weights["boring"] < 0
            assert abs(weights["wonderful"]) > abs(weights["배우"])
        for word in ("wonderful", "boring"):
            red = colours[word].startswith("rgba(220, 38, 38")
            blue = colours[word].startswith("rgba(37, 99, 235")
            assert (red, blue) == ((True, False) if weights[word] > 0 else (False, True))
        expect(p.get_by_test_id("export-html")).to_be_visible()
        expect(p.get_by_test_id("export-png")).to_be_visible()
    expect(page.get_by_test_id("text-classes").locator("li")).to_have_count(
        len(info["class_names"]))


# ---------------------------------------------------------------------- tabular
def test_tabular_what_if_changes_the_prediction(page):
    name = _open(page, "tabular")
    info = json.loads(page.evaluate(f"fetch('/api/models/{name}').then(r => r.text())"))
    modes = [m["name"] for m in info["modes"] if m["name"] != "predict"]
    for mode in modes:
        expect(page.get_by_test_id(f"panel-{mode}")).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("waterfall").locator("rect")).not_to_have_count(0)
    expect(page.get_by_test_id("lime-bars").locator("rect")).not_to_have_count(0)
    prediction = page.get_by_test_id("tab-prediction")
    before = prediction.get_by_test_id("classes").text_content()
    # push every feature the SHAP panel ranks first to the other end of its range
    shap = page.evaluate(
        "m => fetch('/api/models/' + m + '/explain', {method: 'POST', body: JSON.stringify("
        "{mode: 'shap', row: 0, wait: 30})}).then(r => r.json())", name)["result"]
    names = info["feature_names"]
    top = shap["features"][0]
    i = names.index(top["name"])
    r = info["ranges"][i]
    value = r["min"] if top["weight"] > 0 else r["max"]
    job = page.get_by_test_id("panel-shap").get_attribute("data-job")
    field = page.get_by_test_id(f"feature-{i}")
    field.fill(str(value))
    field.press("Tab")
    expect(field).to_have_class(re.compile(r"\bedited\b"))
    expect(page.get_by_test_id("whatif-note")).to_contain_text("1 value changed")
    expect(prediction.get_by_test_id("classes")).not_to_have_text(before)
    expect(page.get_by_test_id("panel-shap")).not_to_have_attribute("data-job", job)
    expect(page.get_by_test_id("panel-shap")).to_have_attribute("data-state", "done")
    page.get_by_test_id("whatif-reset").click()
    expect(prediction.get_by_test_id("classes")).to_have_text(before)


def test_tabular_global_view_draws_importance_bars_and_pdp_charts(page):
    name = _open(page, "tabular")
    info = json.loads(page.evaluate(f"fetch('/api/models/{name}').then(r => r.text())"))
    glob = page.get_by_test_id("panel-global")
    expect(glob).to_be_visible()
    expect(glob.get_by_test_id("importance-bars")).to_be_hidden()  # closed until asked
    page.get_by_test_id("global-open").click()
    expect(glob).to_have_attribute("data-state", "done")
    bars = glob.get_by_test_id("importance-bar")
    expect(bars).to_have_count(min(15, len(info["feature_names"])))
    means = [float(b.get_attribute("data-mean")) for b in bars.all()]
    assert means == sorted(means, reverse=True) and means[0] > 0
    top_k = next(p["default"] for p in info["global"]["params"] if p["name"] == "top_k")
    charts = glob.get_by_test_id("pdp-chart")
    expect(charts).to_have_count(top_k)
    assert charts.first.get_attribute("data-feature") == bars.first.get_attribute("data-feature")
    line = glob.get_by_test_id("pdp-line").first
    before = line.get_attribute("points")
    assert len(before.split()) == 20
    # the other class redraws the curves from the same result (binary: mirrored)
    glob.get_by_test_id("global-class").select_option(index=0)
    expect(glob.get_by_test_id("pdp-line").first).not_to_have_attribute("points", before)
    expect(glob.get_by_test_id("export-png")).to_be_visible()
    page.get_by_test_id("global-open").click()
    expect(glob.get_by_test_id("importance-bars")).to_be_hidden()
    page.get_by_test_id("global-open").click()  # reopened: the result is kept, no new job
    expect(glob.get_by_test_id("importance-bars")).to_be_visible()
    glob.get_by_test_id("pdp-grid").scroll_into_view_if_needed()  # for the screenshot
