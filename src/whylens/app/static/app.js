/* whylens workbench: the page (plain JavaScript, no build step, no external resources).
 *
 * One view per model kind: vision (a clickable layer diagram, an image picker, the top
 * classes and two panels), text (token highlights side by side) and tabular (SHAP waterfall,
 * LIME bars and a what-if editor). Every computation is a job of the server
 * (POST /api/models/{m}/explain); quick ones answer within `wait`, long ones stream their
 * progress (GET /api/jobs/{id}/events) and can be cancelled.
 */
"use strict";

(() => {
  // ------------------------------------------------------------------ helpers
  const QUICK_WAIT = 0.4; // seconds the server may hold a quick request (one round trip)

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
      else if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else if (key === "testid") node.dataset.testid = value;
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const svgNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(svgNS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key === "text") node.textContent = value;
      else if (key === "testid") node.setAttribute("data-testid", value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) if (child) node.append(child);
    return node;
  }

  function fmt(x, digits = 3) {
    if (x === null || x === undefined) return "–";
    if (typeof x !== "number") return String(x);
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e4 || a < 1e-3) return x.toExponential(2);
    return Number(x.toPrecision(digits)).toString();
  }

  const pct = (p) => (100 * p).toFixed(p >= 0.995 || p < 0.001 ? 0 : 1) + "%";
  const shortShape = (shape) => (shape ? shape.slice(1).join("×") : "—");
  const terminal = (state) => state === "done" || state === "error" || state === "cancelled";

  class ApiError extends Error {
    constructor(status, message, data, retryAfter) {
      super(message);
      this.status = status;
      this.data = data;
      this.retryAfter = retryAfter;
    }
  }

  async function api(method, url, body, raw) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      if (raw) {
        opts.body = body;
        opts.headers["Content-Type"] = "application/octet-stream";
      } else {
        opts.body = JSON.stringify(body);
        opts.headers["Content-Type"] = "application/json";
      }
    }
    let resp;
    try {
      resp = await fetch(url, opts);
    } catch (exc) {
      throw new ApiError(0, "The workbench server did not answer (" + exc.message +
        "). Is `whylens serve` still running?");
    }
    const text = await resp.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (exc) {
      data = null;
    }
    if (!resp.ok) {
      const message = data && data.error ? data.error : `HTTP ${resp.status} ${resp.statusText}`;
      throw new ApiError(resp.status, message, data, Number(resp.headers.get("Retry-After")) || 1);
    }
    return data;
  }

  const modelUrl = (name) => `/api/models/${encodeURIComponent(name)}`;

  // ------------------------------------------------------------------ jobs
  /* A Runner owns the job of one panel: it sends the request, follows the job's progress
   * (events, with polling as a fallback), ignores answers to superseded requests, cancels
   * the job it replaces, and calls its ui hooks:
   *   ui.start(), ui.progress(job), ui.result(result, job), ui.failed(state, message). */
  const runners = new Set();

  class Runner {
    constructor(ui) {
      this.ui = ui;
      this.seq = 0;
      this.job = null;
      this.source = null;
      this.retryTimer = null;
      runners.add(this);
    }

    dispose() {
      this.seq++;
      this.stopStream();
      this.cancelSuperseded(this.job);
      runners.delete(this);
    }

    stopStream() {
      if (this.source) {
        this.source.close();
        this.source = null;
      }
      clearTimeout(this.retryTimer);
    }

    forget() {
      this.seq++;
      this.stopStream();
      this.cancelSuperseded(this.job);
      this.job = null;
      this.key = null;
      this.inflight = false;
    }

    cancelSuperseded(job) {
      if (!job || terminal(job.state)) return;
      for (const other of runners) {
        if (other !== this && other.job && other.job.id === job.id) return; // shared job
      }
      api("POST", `/api/jobs/${job.id}/cancel`).catch(() => {});
    }

    async run(model, body, long) {
      const key = model + " " + JSON.stringify(body);
      if (key === this.key && (this.inflight || (this.job && !terminal(this.job.state)))) {
        return; // the same request is on its way: keep following it
      }
      this.key = key;
      const seq = ++this.seq;
      this.stopStream();
      const previous = this.job;
      this.job = null;
      this.cancelSuperseded(previous);
      this.ui.start();
      let data;
      this.inflight = true;
      try {
        data = await api("POST", `${modelUrl(model)}/explain`,
          { ...body, wait: long ? 0 : QUICK_WAIT });
      } catch (exc) {
        if (seq === this.seq) this.inflight = false;
        if (seq !== this.seq) return;
        if (exc.status === 503) {
          this.ui.progress({ state: "queued", done: 0, total: 0,
            note: `The model is busy (queue full); retrying in ${exc.retryAfter} s.` });
          this.retryTimer = setTimeout(() => {
            if (seq === this.seq) this.run(model, body, long);
          }, 1000 * exc.retryAfter);
          return;
        }
        this.ui.failed("error", exc.message);
        return;
      }
      if (seq !== this.seq) return;
      this.inflight = false;
      this.handle(data, seq);
    }

    handle(data, seq) {
      const job = data.job;
      this.job = job;
      if (job.state === "done") {
        this.ui.result(data.result, job);
      } else if (job.state === "error" || job.state === "cancelled") {
        this.ui.failed(job.state, data.error || job.error || job.state);
      } else {
        this.ui.progress(job);
        this.subscribe(job.id, seq);
      }
    }

    subscribe(id, seq) {
      const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
      this.source = source;
      source.onmessage = (event) => {
        if (seq !== this.seq) {
          source.close();
          return;
        }
        const data = JSON.parse(event.data);
        if (terminal(data.job.state)) {
          source.close();
          if (this.source === source) this.source = null;
          this.handle(data, seq);
        } else {
          this.job = data.job;
          this.ui.progress(data.job);
        }
      };
      source.onerror = () => {
        source.close();
        if (this.source === source && seq === this.seq) {
          this.source = null;
          this.poll(id, seq);
        }
      };
    }

    async poll(id, seq) {
      while (seq === this.seq) {
        let data;
        try {
          data = await api("GET", `/api/jobs/${encodeURIComponent(id)}`);
        } catch (exc) {
          if (seq !== this.seq) return;
          if (exc.data && exc.data.job) {
            this.handle(exc.data, seq);
          } else {
            this.ui.failed("error", exc.message);
          }
          return;
        }
        if (seq !== this.seq) return;
        if (terminal(data.job.state)) {
          this.handle(data, seq);
          return;
        }
        this.job = data.job;
        this.ui.progress(data.job);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }

    cancel() {
      const job = this.job;
      if (!job || terminal(job.state)) return;
      api("POST", `/api/jobs/${encodeURIComponent(job.id)}/cancel`).catch((exc) => {
        this.ui.failed("error", exc.message);
      });
    }
  }

  /* The progress row of a panel: a bar (done/total, or a moving stripe while the total is
   * unknown), a label and a Cancel button. */
  function progressRow(onCancel) {
    const bar = el("div", { class: "bar" });
    const label = el("span", { class: "progress-label", testid: "progress-label" });
    const cancel = el("button", { class: "btn small danger", type: "button", testid: "cancel",
      onclick: onCancel }, "Cancel");
    const track = el("div", { class: "track", role: "progressbar", "aria-valuemin": 0 }, bar);
    const row = el("div", { class: "progress", testid: "progress", hidden: true },
      track, label, cancel);
    return {
      row,
      show(job) {
        row.hidden = false;
        const total = job.total || 0;
        const done = job.done || 0;
        row.dataset.done = String(done);
        row.dataset.total = String(total);
        row.dataset.state = job.state;
        if (total > 0) {
          track.classList.remove("indeterminate");
          bar.style.width = `${Math.min(100, (100 * done) / total).toFixed(1)}%`;
          track.setAttribute("aria-valuemax", total);
          track.setAttribute("aria-valuenow", done);
          label.textContent = `${done.toLocaleString()} / ${total.toLocaleString()}`;
        } else {
          track.classList.add("indeterminate");
          bar.style.width = "30%";
          label.textContent = job.state === "queued" ? "queued" : "working…";
        }
        if (job.note) label.textContent = job.note;
        cancel.hidden = !job.id;
      },
      hide() {
        row.hidden = true;
        delete row.dataset.done;
        delete row.dataset.total;
        delete row.dataset.state;
      },
    };
  }

  function exportLinks(result) {
    const links = el("div", { class: "exports", testid: "exports" }, el("span", { class: "muted" },
      "Export"));
    const add = (url, label, id) => {
      if (url) links.append(el("a", { href: url, download: "", class: "btn small", testid: id },
        label));
    };
    add(result.png, "PNG", "export-png");
    add(result.html, "HTML report", "export-html");
    add(result.json, "JSON", "export-json");
    return links;
  }

  /* One control per parameter of a mode's schema. `values` holds the current values;
   * `onChange(name, value, param)` is called on a committed change. */
  function paramControl(param, values, onChange) {
    const id = `p-${Math.random().toString(36).slice(2, 9)}`;
    const value = values[param.name] ?? param.default;
    let input;
    if (param.kind === "choice") {
      input = el("select", { id, testid: `param-${param.name}` },
        param.choices.map((choice, i) => el("option", { value: String(i),
          selected: String(choice) === String(value) }, String(choice))));
      input.addEventListener("change", () => onChange(param.name,
        param.choices[Number(input.value)], param));
    } else if (param.kind === "bool") {
      input = el("input", { id, type: "checkbox", testid: `param-${param.name}`,
        checked: Boolean(value) });
      input.addEventListener("change", () => onChange(param.name, input.checked, param));
    } else if (param.kind === "float" && param.min === 0 && param.max === 1) {
      const shown = el("span", { class: "range-value" }, fmt(value, 2));
      input = el("input", { id, type: "range", min: 0, max: 1, step: 0.05, value,
        testid: `param-${param.name}` });
      input.addEventListener("input", () => { shown.textContent = fmt(Number(input.value), 2); });
      input.addEventListener("change", () => onChange(param.name, Number(input.value), param));
      return el("label", { class: "param", for: id, title: param.name },
        el("span", { class: "param-name" }, param.label), el("span", { class: "range" }, input,
          shown));
    } else {
      input = el("input", { id, type: "number", value, testid: `param-${param.name}`,
        min: param.min, max: param.max, step: param.kind === "int" ? 1 : "any",
        class: param.kind === "int" && (param.max || 0) > 9999 ? "wide" : null });
      input.addEventListener("change", () => {
        if (input.value === "") return;
        const v = param.kind === "int" ? Math.round(Number(input.value)) : Number(input.value);
        const bad = Number.isNaN(v) || (param.min !== undefined && v < param.min) ||
          (param.max !== undefined && v > param.max);
        input.classList.toggle("invalid", bad);
        input.title = bad ? `${param.label}: between ${param.min} and ${param.max}` : "";
        if (!bad) onChange(param.name, v, param);
      });
    }
    return el("label", { class: "param", for: id, title: param.name },
      el("span", { class: "param-name" }, param.label), input);
  }

  function classBars(classes, selected, onPick, testid) {
    const list = el("ol", { class: "classes", testid });
    for (const c of classes) {
      const item = el("li", { class: "class" + (c.index === selected ? " selected" : ""),
        testid: `class-${c.index}`, "data-index": c.index, tabindex: onPick ? 0 : null,
        title: onPick ? `Explain the class “${c.label}” in every panel` : c.label },
      el("span", { class: "class-label" }, c.label),
      el("span", { class: "class-bar" }, el("span", { style: { width: `${(100 * c.p).toFixed(1)}%` } })),
      el("span", { class: "class-p" }, pct(c.p)));
      if (onPick) {
        item.classList.add("clickable");
        item.addEventListener("click", () => onPick(c));
        item.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            onPick(c);
          }
        });
      }
      list.append(item);
    }
    return list;
  }

  function factList(pairs) {
    const dl = el("dl", { class: "facts", testid: "facts" });
    for (const [key, value, testid] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      dl.append(el("div", { class: "fact", testid: testid || null }, el("dt", {}, key),
        el("dd", {}, value)));
    }
    return dl;
  }

  // ------------------------------------------------------------------ app shell
  const state = { models: [], current: null, view: null };
  const main = document.getElementById("main");

  function showFatal(message) {
    main.replaceChildren(el("div", { class: "fatal", testid: "fatal" }, message));
  }

  async function start() {
    try {
      state.models = await api("GET", "/api/models");
    } catch (exc) {
      showFatal(`Could not list the models: ${exc.message}`);
      return;
    }
    const nav = document.querySelector("[data-testid=model-picker]");
    const groups = { vision: "Vision", text: "Text", tabular: "Tabular" };
    for (const [kind, title] of Object.entries(groups)) {
      const models = state.models.filter((m) => m.kind === kind);
      for (const m of models) {
        nav.append(el("button", { type: "button", class: "tab", role: "tab",
          testid: `model-${m.name}`, "data-kind": kind, "data-model": m.name,
          title: m.title, onclick: () => openModel(m.name) },
        el("span", { class: "tab-kind" }, title),
        models.length > 1 ? el("span", { class: "tab-name" }, m.name) : null));
      }
    }
    if (!state.models.length) {
      showFatal("The workbench serves no model.");
      return;
    }
    const wanted = new URLSearchParams(location.hash.slice(1)).get("model");
    const first = state.models.find((m) => m.name === wanted) || state.models[0];
    openModel(first.name);
  }

  async function openModel(name) {
    for (const tab of document.querySelectorAll(".kinds .tab")) {
      const on = tab.dataset.model === name;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
    }
    if (state.view && state.view.dispose) state.view.dispose();
    state.view = null;
    main.replaceChildren(el("div", { class: "loading", testid: "loading" }, "Loading…"));
    let info;
    try {
      info = await api("GET", modelUrl(name));
    } catch (exc) {
      showFatal(`Could not load the model ${name}: ${exc.message}`);
      return;
    }
    history.replaceState(null, "", `#model=${encodeURIComponent(name)}`);
    document.querySelector("[data-testid=model-title]").textContent = info.title || name;
    const views = { vision: VisionView, text: TextView, tabular: TabularView };
    const View = views[info.kind];
    if (!View) {
      showFatal(`The page cannot show a model of kind ${info.kind}.`);
      return;
    }
    state.view = new View(name, info);
    main.replaceChildren(state.view.root);
    main.dataset.kind = info.kind;
    state.view.begin();
  }

  // ------------------------------------------------------------------ vision
  class VisionView {
    constructor(name, info) {
      this.name = name;
      this.info = info;
      this.modes = Object.fromEntries(info.modes.map((m) => [m.name, m]));
      this.images = [...info.images];
      this.image = this.images.length ? this.images[0].id : null;
      this.target = null; // null: the image's most probable class
      this.classes = [];
      this.layers = new Map(info.layers.map((l) => [l.name, l]));
      this.active = 0;
      this.boxes = new Map();
      this.buildTree();
      const first = this.modes.feature_maps ? "feature_maps" : info.modes[0].name;
      const second = this.modes.gradcam ? "gradcam" : info.modes[Math.min(1, info.modes.length - 1)].name;
      this.panels = [new VisionPanel(this, 0, first), new VisionPanel(this, 1, second)];
      this.predictRunner = new Runner({
        start: () => { this.classesBox.classList.add("busy"); },
        progress: () => {},
        result: (result) => {
          this.classesBox.classList.remove("busy");
          this.classes = result.classes;
          this.drawClasses();
        },
        failed: (st, message) => {
          this.classesBox.classList.remove("busy");
          this.classesBox.replaceChildren(el("div", { class: "error" }, message));
        },
      });
      this.root = this.layout();
      this.setActive(0);
    }

    dispose() {
      for (const p of this.panels) p.runner.dispose();
      this.predictRunner.dispose();
    }

    begin() {
      this.pickImage(this.image);
    }

    // --- the layer tree
    buildTree() {
      const nodes = new Map();
      for (const layer of this.info.layers) nodes.set(layer.name, { layer, children: [], parent: null });
      this.roots = [];
      for (const node of nodes.values()) {
        let p = node.layer.name;
        let parent = null;
        while (p.includes(".")) {
          p = p.slice(0, p.lastIndexOf("."));
          if (nodes.has(p)) {
            parent = nodes.get(p);
            break;
          }
        }
        node.parent = parent;
        (parent ? parent.children : this.roots).push(node);
      }
      const startOf = (node) => {
        let s = node.layer.order >= 0 ? node.layer.order : Infinity;
        for (const c of node.children) s = Math.min(s, startOf(c));
        node.start = s;
        return s;
      };
      const sort = (list) => {
        list.sort((a, b) => a.start - b.start);
        list.forEach((n) => sort(n.children));
      };
      this.roots.forEach(startOf);
      sort(this.roots);
      this.nodes = nodes;
    }

    treeNode(node) {
      const layer = node.layer;
      const hasChildren = node.children.length > 0;
      const short = node.parent ? layer.name.slice(node.parent.layer.name.length + 1) : layer.name;
      const marks = el("span", { class: "marks" });
      const twisty = hasChildren
        ? el("button", { type: "button", class: "twisty", testid: `toggle-${layer.name}`,
          "aria-label": `expand ${layer.name}`, title: "Show or hide the layers inside",
          onclick: (e) => { e.stopPropagation(); this.toggle(layer.name); } }, "")
        : el("span", { class: "twisty leaf" });
      const box = el("div", {
        class: "box" + (layer.spatial ? " spatial" : " flat") +
          (layer.name === this.info.default_layer ? " default" : ""),
        testid: `layer-${layer.name}`, "data-layer": layer.name, tabindex: 0, role: "button",
        title: `${layer.name}\n${layer.kind} · output ${layer.shape ? layer.shape.join("×") : "none"}` +
          ` · ${layer.n_params.toLocaleString()} parameters` +
          (layer.name === this.info.default_layer ? "\n(the default CAM layer)" : ""),
        onclick: () => this.pickLayer(layer.name),
        onkeydown: (e) => this.treeKey(e, layer.name),
      }, twisty, el("span", { class: "box-name" }, short),
      el("span", { class: "box-kind" }, layer.kind),
      el("span", { class: "box-shape" }, shortShape(layer.shape)), marks);
      const wrap = el("div", { class: "node" + (hasChildren ? " collapsed" : ""),
        "data-depth": layer.depth }, box);
      if (hasChildren) {
        wrap.append(el("div", { class: "children" }, node.children.map((c) => this.treeNode(c))));
      }
      this.boxes.set(layer.name, { box, wrap, marks, twisty });
      return wrap;
    }

    /* Keys on a focused box: Enter/Space pick it, Up/Down move, Right/Left open/close. */
    treeKey(e, name) {
      const visible = () => [...this.tree.querySelectorAll(".box")].filter((b) => b.offsetParent);
      if (e.key === "Enter" || e.key === " ") {
        this.pickLayer(name);
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        const boxes = visible();
        const at = boxes.indexOf(e.currentTarget);
        const next = boxes[at + (e.key === "ArrowDown" ? 1 : -1)];
        if (next) next.focus();
      } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        this.toggle(name, e.key === "ArrowRight");
      } else {
        return;
      }
      e.preventDefault();
    }

    toggle(name, open) {
      const item = this.boxes.get(name);
      if (!item || !item.wrap.querySelector(".children")) return;
      const collapsed = open === undefined ? !item.wrap.classList.contains("collapsed") : !open;
      item.wrap.classList.toggle("collapsed", collapsed);
      item.twisty.setAttribute("aria-expanded", collapsed ? "false" : "true");
    }

    expandTo(name) {
      let node = this.nodes.get(name);
      node = node && node.parent;
      while (node) {
        this.toggle(node.layer.name, true);
        node = node.parent;
      }
    }

    expandDepth(depth) {
      for (const [name, item] of this.boxes) {
        const d = this.layers.get(name).depth;
        if (item.wrap.querySelector(".children")) this.toggle(name, d < depth);
      }
      for (const p of this.panels) this.expandTo(p.layer);
    }

    markLayers() {
      for (const { box, marks } of this.boxes.values()) {
        box.classList.remove("selected", "selected-other");
        marks.replaceChildren();
      }
      this.panels.forEach((p, i) => {
        const item = this.boxes.get(p.layer);
        if (!item) return;
        item.box.classList.add(i === this.active ? "selected" : "selected-other");
        item.marks.append(el("span", { class: `mark mark-${i}`, title: `panel ${"AB"[i]}` }, "AB"[i]));
      });
    }

    filterTree(query) {
      const q = query.trim().toLowerCase();
      this.tree.classList.toggle("filtering", Boolean(q));
      for (const [name, item] of this.boxes) {
        const layer = this.layers.get(name);
        const hit = q && (name.toLowerCase().includes(q) || layer.kind.toLowerCase().includes(q));
        item.box.classList.toggle("hit", Boolean(hit));
      }
      if (q) {
        const hits = [...this.boxes.keys()].filter((n) => this.boxes.get(n).box.classList.contains("hit"));
        hits.slice(0, 60).forEach((n) => this.expandTo(n));
        this.treeCount.textContent = `${hits.length} match${hits.length === 1 ? "" : "es"}`;
        if (hits.length) this.boxes.get(hits[0]).box.scrollIntoView({ block: "nearest" });
      } else {
        this.treeCount.textContent = `${this.info.layers.length} layers`;
      }
    }

    pickLayer(name) {
      const panel = this.panels[this.active];
      panel.setLayer(name);
      this.markLayers();
    }

    setActive(index) {
      this.active = index;
      if (this.activeHint) {
        this.activeHint.replaceChildren("a click sets the layer of panel ",
          el("span", { class: `mark mark-${index}` }, "AB"[index]));
      }
      this.panels.forEach((p, i) => p.root.classList.toggle("active", i === index));
      this.markLayers();
    }

    // --- images and classes
    thumb(image) {
      const node = el("button", { type: "button", class: "thumb", testid: `image-${image.id}`,
        "data-image": image.id, title: image.name, onclick: () => this.pickImage(image.id) },
      el("img", { src: `${modelUrl(this.name)}/images/${image.id}.png`, alt: image.name,
        width: 56, height: 56 }),
      el("span", {}, image.name));
      return node;
    }

    async upload(file) {
      if (!file) return;
      this.uploadStatus.textContent = `uploading ${file.name}…`;
      this.uploadStatus.className = "upload-status muted";
      try {
        const stored = await api("POST", `${modelUrl(this.name)}/images`, file, true);
        const name = file.name || stored.name;
        if (!this.images.some((im) => im.id === stored.id)) {
          const image = { id: stored.id, name };
          this.images.push(image);
          this.thumbs.insertBefore(this.thumb(image), this.uploadButton);
        }
        this.uploadStatus.textContent = "";
        this.pickImage(stored.id);
      } catch (exc) {
        this.uploadStatus.textContent = exc.message;
        this.uploadStatus.className = "upload-status error";
      }
    }

    pickImage(id) {
      if (!id) {
        this.classesBox.replaceChildren(el("div", { class: "muted" }, "Upload an image to start."));
        return;
      }
      this.image = id;
      this.target = null;
      for (const t of this.thumbs.querySelectorAll(".thumb")) {
        t.classList.toggle("selected", t.dataset.image === id);
      }
      this.classes = [];
      this.drawClasses();
      this.predictRunner.run(this.name, { image: id, mode: "predict" }, false);
      for (const p of this.panels) p.request();
    }

    retarget(index) {
      this.target = index;
      this.drawClasses();
      for (const p of this.panels) if (p.mode.uses_target) p.request();
    }

    drawClasses() {
      const selected = this.target ?? (this.classes.length ? this.classes[0].index : null);
      const box = this.classesBox;
      if (!this.classes.length) {
        box.replaceChildren(el("div", { class: "muted" }, "predicting…"));
        return;
      }
      const reset = this.target !== null
        ? el("button", { type: "button", class: "btn small", testid: "target-reset",
          onclick: () => this.retarget(null) }, "back to the top class")
        : null;
      box.replaceChildren(
        el("div", { class: "section-title" }, "Top classes",
          el("span", { class: "muted hint" }, "click one to explain it"), reset),
        classBars(this.classes, selected, (c) => this.retarget(c.index), "classes"));
      box.dataset.target = selected;
    }

    layout() {
      this.tree = el("div", { class: "tree", testid: "layer-tree" }, this.roots.map((n) => this.treeNode(n)));
      // open the top levels (a compact view of the blocks) and the paths to the panels' layers
      this.expandDepth(2);
      this.treeCount = el("span", { class: "muted" }, `${this.info.layers.length} layers`);
      const depthButtons = el("span", { class: "depths", title: "Expand the diagram to a depth" },
        "depth", [1, 2, 3, 9].map((d) => el("button", { type: "button", class: "btn tiny",
          testid: `depth-${d}`, onclick: () => this.expandDepth(d) }, d === 9 ? "all" : String(d))));
      const search = el("input", { type: "search", placeholder: "find a layer",
        testid: "layer-search", oninput: (e) => this.filterTree(e.target.value) });
      this.activeHint = el("span", { class: "active-hint muted", testid: "active-hint" });
      const aside = el("aside", { class: "network" },
        el("div", { class: "network-head" },
          el("div", { class: "section-title" }, "Network", this.treeCount, this.activeHint),
          el("div", { class: "network-tools" }, search, depthButtons),
          el("div", { class: "legend" }, el("span", { class: "key spatial" }, "spatial"),
            el("span", { class: "key flat" }, "flat"),
            el("span", { class: "key default" }, "default CAM layer"))),
        this.tree);

      this.uploadStatus = el("span", { class: "upload-status" });
      const fileInput = el("input", { type: "file", accept: "image/*", testid: "upload",
        class: "visually-hidden", id: "upload-input",
        onchange: (e) => { this.upload(e.target.files[0]); e.target.value = ""; } });
      this.uploadButton = el("label", { class: "thumb upload", for: "upload-input",
        title: "Upload an image (PNG, JPEG …)" }, el("span", { class: "plus" }, "+"),
      el("span", {}, "upload"), fileInput);
      this.thumbs = el("div", { class: "thumbs", testid: "images" }, this.images.map((im) => this.thumb(im)),
        this.uploadButton);
      this.classesBox = el("div", { class: "top-classes", testid: "top-classes" });
      const inputs = el("section", { class: "inputs" },
        el("div", { class: "image-picker" }, el("div", { class: "section-title" }, "Image",
          el("span", { class: "muted hint" }, `as the model sees it, ${this.info.size}×${this.info.size}`)),
        this.thumbs,
          this.uploadStatus),
        this.classesBox);
      const panels = el("section", { class: "panels" }, this.panels.map((p) => p.root));
      const work = el("section", { class: "work" }, inputs, panels);
      return el("div", { class: "vision-view", testid: "vision-view" }, aside, work);
    }
  }

  class VisionPanel {
    constructor(view, index, mode) {
      this.view = view;
      this.index = index;
      this.layer = view.info.default_layer;
      this.modeName = mode;
      this.values = {}; // mode name -> {param: value}
      this.runner = new Runner({
        start: () => this.onStart(),
        progress: (job) => this.onProgress(job),
        result: (result, job) => this.onResult(result, job),
        failed: (st, message) => this.onFailed(st, message),
      });
      this.progress = progressRow(() => this.runner.cancel());
      this.build();
    }

    get mode() {
      return this.view.modes[this.modeName];
    }

    params() {
      const values = this.values[this.modeName] || (this.values[this.modeName] = {});
      const out = {};
      for (const p of this.mode.params) out[p.name] = values[p.name] ?? p.default;
      return out;
    }

    build() {
      const modes = this.view.info.modes;
      const group = (label, list) => el("optgroup", { label }, list.map((m) => el("option",
        { value: m.name, selected: m.name === this.modeName }, m.title + (m.long ? " (long: press Run)" : ""))));
      this.modeSelect = el("select", { testid: "mode-select", title: "What to show",
        onchange: (e) => this.setMode(e.target.value) },
      group("Of the clicked layer", modes.filter((m) => m.uses_layer)),
      group("Of the whole input", modes.filter((m) => !m.uses_layer)));
      this.layerChip = el("button", { type: "button", class: "layer-chip", testid: "panel-layer",
        title: "Show this layer in the diagram", onclick: () => this.reveal() });
      this.form = el("form", { class: "params", testid: "params",
        onsubmit: (e) => { e.preventDefault(); this.run(); } });
      this.status = el("div", { class: "status", testid: "status", role: "status" });
      this.img = el("img", { class: "result-img", testid: "result-img", alt: "" });
      this.img.addEventListener("load", () => {
        // small pictures (224 px heat maps) are shown half as large again
        const w = this.img.naturalWidth;
        this.img.style.width = w && w <= 256 ? `${Math.round(w * 1.5)}px` : "";
        if (this.img.dataset.job === this.pendingImage) {
          this.root.dataset.state = "done";
          this.figure.classList.remove("stale");
        }
      });
      this.img.addEventListener("error", () => {
        if (this.img.dataset.job === this.pendingImage) {
          this.onFailed("error", "The picture could not be loaded (the result may have been " +
            "dropped from the cache); press Run to compute it again.");
        }
      });
      this.figure = el("div", { class: "figure empty", testid: "figure" }, this.img);
      this.pager = el("div", { class: "pager", testid: "pager", hidden: true });
      this.factsBox = el("div", { class: "facts-box" });
      this.exportsBox = el("div", {});
      this.runButton = el("button", { type: "submit", class: "btn primary small", testid: "run" },
        "Run");
      this.form.append(this.runButton);
      this.root = el("article", { class: "panel", testid: `panel-${this.index}`,
        "data-state": "idle", onmousedown: () => this.view.setActive(this.index),
        onfocusin: () => this.view.setActive(this.index) },
      el("div", { class: "panel-head" }, el("span", { class: "panel-tag" }, "AB"[this.index]),
        this.modeSelect, this.layerChip),
      this.form, this.progress.row, this.status, this.figure, this.pager, this.factsBox,
      this.exportsBox);
      this.drawForm();
      this.drawLayer();
    }

    drawLayer() {
      const layer = this.view.layers.get(this.layer);
      if (this.mode.uses_layer) {
        this.layerChip.replaceChildren(el("span", { class: "muted" }, "layer "),
          el("b", {}, this.layer), el("span", { class: "muted" }, ` ${shortShape(layer && layer.shape)}`));
        this.layerChip.disabled = false;
      } else {
        this.layerChip.replaceChildren(el("span", { class: "muted" }, "input-level: no layer"));
        this.layerChip.disabled = true;
      }
    }

    drawForm() {
      const values = this.values[this.modeName] || (this.values[this.modeName] = {});
      const controls = this.mode.params.filter((p) => !(this.modeName === "feature_maps" && p.name === "page"))
        .map((p) => paramControl(p, values, (name, value, param) => {
          values[name] = value;
          if (name !== "page" && this.mode.params.some((q) => q.name === "page")) values.page = 0;
          this.request();
        }));
      this.form.replaceChildren(...controls, this.runButton);
    }

    reveal() {
      this.view.expandTo(this.layer);
      const item = this.view.boxes.get(this.layer);
      if (item) item.box.scrollIntoView({ block: "center" });
    }

    setMode(name) {
      this.modeName = name;
      this.modeSelect.value = name;
      this.clearResult(); // a picture of another mode would mislead
      this.drawForm();
      this.drawLayer();
      this.request();
    }

    setLayer(name) {
      const changed = name !== this.layer;
      this.layer = name;
      const values = this.values.feature_maps;
      if (changed && values) values.page = 0;
      this.drawLayer();
      if (this.mode.uses_layer) {
        this.request();
      } else {
        this.status.className = "status note";
        this.status.textContent = `${this.mode.title} explains the whole input; the layer is kept ` +
          "for the layer modes (pick one above).";
      }
    }

    body() {
      const body = { image: this.view.image, mode: this.modeName, params: this.params() };
      if (this.mode.uses_layer) body.layer = this.layer;
      if (this.mode.uses_target && this.view.target !== null) body.target = this.view.target;
      return body;
    }

    /* A change of mode, layer, class, image or parameter: quick modes run at once; long
     * ones (LIME, Score-CAM ...) wait for Run, so that their parameters can be set first. */
    request() {
      if (!this.mode.long) {
        this.run();
        return;
      }
      this.runner.forget(); // a run in progress with other settings is cancelled
      this.progress.hide();
      this.root.dataset.state = "pending";
      this.runButton.classList.add("attention");
      this.figure.classList.add("stale");
      this.status.className = "status note";
      this.status.textContent = `${this.mode.title} takes a while: set its parameters, then ` +
        "press Run.";
    }

    run() {
      if (!this.view.image) return;
      this.runButton.classList.remove("attention");
      const layer = this.view.layers.get(this.layer);
      if (this.mode.uses_layer && layer && !layer.spatial) {
        this.runner.forget();
        this.clearResult();
        this.onFailed("error", `${this.mode.title} needs a layer with a spatial map (channels × ` +
          `height × width, green in the diagram); ${this.layer} (${layer.kind}) outputs ` +
          `${layer.shape ? layer.shape.slice(1).join("×") : "nothing it can show"}. ` +
          "Pick a convolution, normalisation or activation before the pooling.");
        return;
      }
      this.runner.run(this.view.name, this.body(), this.mode.long);
    }

    onStart() {
      this.root.dataset.state = "loading";
      this.status.textContent = "";
      this.status.className = "status";
      this.figure.classList.add("stale");
      this.pendingImage = null;
    }

    onProgress(job) {
      this.root.dataset.state = job.state === "queued" ? "queued" : "running";
      if (job.id) this.root.dataset.job = job.id;
      this.progress.show(job);
    }

    onResult(result, job) {
      this.progress.hide();
      this.status.textContent = "";
      this.status.className = "status";
      this.root.dataset.job = job.id;
      this.root.dataset.mode = result.mode || this.modeName;
      this.root.dataset.layer = result.layer || "";
      this.root.dataset.target = result.target ?? "";
      if (result.png) {
        this.root.dataset.state = "loading-image";
        this.pendingImage = job.id;
        this.img.dataset.job = job.id;
        this.img.alt = `${this.mode.title} ${result.layer ? "of " + result.layer : ""}`;
        this.img.src = result.png;
        this.figure.classList.remove("empty");
      } else {
        this.root.dataset.state = "done";
      }
      this.drawPager(result);
      this.drawFacts(result);
      this.exportsBox.replaceChildren(exportLinks(result));
    }

    onFailed(st, message) {
      this.progress.hide();
      this.root.dataset.state = st;
      this.figure.classList.remove("stale");
      this.status.className = st === "cancelled" ? "status note" : "status error";
      this.status.textContent = st !== "cancelled" ? message
        : !message || /cancelled/.test(message) ? "Cancelled." : `Stopped: ${message}`;
    }

    clearResult() {
      this.pendingImage = null;
      this.img.removeAttribute("src");
      delete this.img.dataset.job;
      this.img.style.width = "";
      this.figure.classList.add("empty");
      this.figure.classList.remove("stale");
      this.pager.hidden = true;
      this.factsBox.replaceChildren();
      this.exportsBox.replaceChildren();
      this.root.dataset.mode = "";
      this.root.dataset.layer = "";
      this.root.dataset.target = "";
    }

    drawPager(result) {
      if (result.pages === undefined) {
        this.pager.hidden = true;
        return;
      }
      const values = this.values[this.modeName];
      const go = (page) => {
        values.page = page;
        this.run();
      };
      const page = result.page;
      const pages = result.pages;
      this.pager.hidden = false;
      this.pager.replaceChildren(
        el("button", { type: "button", class: "btn tiny", testid: "page-prev", disabled: page <= 0,
          onclick: () => go(page - 1) }, "‹ prev"),
        el("span", { class: "page-label", testid: "page-label" }, `page ${page + 1} / ${pages}`),
        el("button", { type: "button", class: "btn tiny", testid: "page-next", disabled: page >= pages - 1,
          onclick: () => go(page + 1) }, "next ›"),
        el("span", { class: "muted" }, `channels ${result.channels.slice(0, 4).join(", ")}` +
          `${result.channels.length > 4 ? "…" : ""} (sorted by ${values.order || "mean"})`));
    }

    drawFacts(result) {
      const pairs = [
        ["class", result.target_label ? `${result.target_label} (#${result.target})` : null],
        ["seconds", result.seconds !== undefined ? fmt(result.seconds, 3) : null, "fact-seconds"],
        ["min / max", result.min !== undefined ? `${fmt(result.min)} / ${fmt(result.max)}` : null, "fact-range"],
        ["channels", result.n_channels !== undefined ? `${result.n_channels} · map ${(result.spatial || []).join("×")}` : null, "fact-channels"],
        ["model calls", result.n_evals || null],
        ["segments", result.n_segments],
        ["fit R²", result.score !== undefined ? fmt(result.score) : null],
        ["completeness gap", result.delta !== undefined ? fmt(result.delta) : null],
      ];
      const trust = result.trust;
      if (trust) {
        // deletion: lower is better; insertion: higher is better; each beside its random control
        for (const [name, m] of [["deletion AUC", trust.deletion], ["insertion AUC", trust.insertion]]) {
          const better = m.higher_is_better ? m.score > m.random.mean : m.score < m.random.mean;
          pairs.push([name, `${fmt(m.score)} (random ${fmt(m.random.mean)} ± ${fmt(m.random.std)}` +
            `${better ? ", better than chance" : ", not better than chance"})`,
            name.startsWith("deletion") ? "fact-deletion" : "fact-insertion"]);
        }
        const c = trust.control || {}, unit = trust.grid ? "squares" : "pixels";
        pairs.push(["random maps", c.kind === "smooth"
          ? `smooth, σ ${fmt(c.sigma)} ${unit} (${c.scale})` : `scattered ${unit}`, "fact-control"]);
      }
      if (result.means && result.means.length) {
        pairs.push(["top means", result.means.slice(0, 3).map((m) => fmt(m)).join(", ")]);
      }
      this.factsBox.replaceChildren(factList(pairs));
      if (trust) {
        this.factsBox.append(el("div", { class: "status note", testid: "trust-note" },
          "Deletion blurs the map's strongest squares first (lower is better), insertion " +
          "restores them first (higher is better); \"random\" is the same check on random maps " +
          "at the map's own scale: smooth blobs for CAMs, layer maps and LIME, scattered " +
          "squares for pixel maps."));
      }
      // a module called more than once (a shared activation) has one shape per call
      const layer = result.layer && this.view.layers.get(result.layer);
      if (layer && layer.shape && result.n_channels !== undefined) {
        const seen = [result.n_channels, ...(result.spatial || [])].join("×");
        const listed = layer.shape.slice(1).join("×");
        if (seen !== listed) {
          this.factsBox.append(el("div", { class: "status note", testid: "shape-note" },
            `These maps are ${seen}, while the diagram lists ${listed} for ${result.layer}: ` +
            "the module runs more than once in the forward pass (a shared activation), and " +
            "each call has its own output."));
        }
      }
    }
  }

  // ------------------------------------------------------------------ text
  function tokenHighlights(text, tokens, testid) {
    const box = el("div", { class: "tokens", testid, lang: "ko" });
    const max = Math.max(1e-12, ...tokens.map((t) => Math.abs(t.weight || 0)));
    const sorted = [...tokens].sort((a, b) => a.start - b.start);
    let at = 0;
    for (const t of sorted) {
      if (t.start < at) continue; // overlapping spans: keep the first
      if (t.start > at) box.append(document.createTextNode(text.slice(at, t.start)));
      const w = t.weight || 0;
      const a = Math.min(1, Math.abs(w) / max);
      const rgb = w >= 0 ? "220, 38, 38" : "37, 99, 235";
      box.append(el("span", { class: "tok" + (a > 0 ? "" : " zero"), testid: "token",
        "data-weight": w, title: `${t.text}: ${fmt(w, 3)}`,
        style: { backgroundColor: a > 0 ? `rgba(${rgb}, ${(0.06 + 0.74 * a).toFixed(3)})` : "",
          color: a > 0.6 ? "#fff" : "" } }, text.slice(t.start, t.end)));
      at = t.end;
    }
    if (at < text.length) box.append(document.createTextNode(text.slice(at)));
    return box;
  }

  /* A panel of the text or tabular view: one mode, its parameters, progress and result. */
  class ModePanel {
    constructor(view, mode, index, draw) {
      this.view = view;
      this.mode = mode;
      this.values = {};
      this.draw = draw;
      this.runner = new Runner({
        start: () => {
          this.root.dataset.state = "loading";
          this.status.textContent = "";
          this.status.className = "status";
          this.body.classList.add("stale");
        },
        progress: (job) => {
          this.root.dataset.state = "running";
          this.progress.show(job);
        },
        result: (result, job) => {
          this.progress.hide();
          this.body.classList.remove("stale");
          this.root.dataset.job = job.id;
          this.body.replaceChildren(this.draw(result));
          this.exportsBox.replaceChildren(exportLinks(result));
          this.root.dataset.state = "done";
          if (this.onResult) this.onResult(result);
        },
        failed: (st, message) => {
          this.progress.hide();
          this.body.classList.remove("stale");
          this.root.dataset.state = st;
          this.status.className = st === "cancelled" ? "status note" : "status error";
          this.status.textContent = st === "cancelled" ? "Cancelled." : message;
        },
      });
      this.progress = progressRow(() => this.runner.cancel());
      this.status = el("div", { class: "status", testid: "status", role: "status" });
      this.body = el("div", { class: "mode-body", testid: "mode-body" });
      this.exportsBox = el("div", {});
      const controls = mode.params.map((p) => paramControl(p, this.values, (name, value) => {
        this.values[name] = value;
        this.view.runMode(this);
      }));
      const form = controls.length
        ? el("details", { class: "mode-params" }, el("summary", {}, "parameters"),
          el("div", { class: "params" }, controls))
        : null;
      this.root = el("article", { class: "panel mode-panel", testid: `panel-${mode.name}`,
        "data-state": "idle" },
      el("div", { class: "panel-head" }, el("h3", {}, mode.title), form),
      this.progress.row, this.status, this.body, this.exportsBox);
    }

    params() {
      const out = {};
      for (const p of this.mode.params) out[p.name] = this.values[p.name] ?? p.default;
      return out;
    }
  }

  // The runner of a view's "predict" requests: its box is busy meanwhile, errors show in it.
  function predictionRunner(box, draw) {
    return new Runner({
      start: () => box().classList.add("busy"),
      progress: () => {},
      result: (result) => {
        box().classList.remove("busy");
        draw(result.classes);
      },
      failed: (st, message) => {
        box().classList.remove("busy");
        box().replaceChildren(el("div", { class: "error" }, message));
      },
    });
  }

  class TextView {
    constructor(name, info) {
      this.name = name;
      this.info = info;
      this.target = null;
      this.text = (info.examples && info.examples[0]) || "";
      this.predictRunner = predictionRunner(() => this.classesBox, (classes) => {
        this.classes = classes;
        this.drawClasses();
      });
      this.panels = info.modes.filter((m) => m.name !== "predict").map((m, i) =>
        new ModePanel(this, m, i, (result) => this.drawResult(m, result)));
      this.root = this.layout();
    }

    dispose() {
      clearTimeout(this.readinessTimer);
      this.predictRunner.dispose();
      for (const p of this.panels) p.runner.dispose();
    }

    begin() {
      this.run();
    }

    layout() {
      this.textarea = el("textarea", { testid: "text-input", rows: 4, lang: "ko",
        placeholder: "Type or paste a sentence (Korean included) …",
        onkeydown: (e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            this.run();
          }
        } });
      this.textarea.value = this.text;
      const tokenizers = this.info.tokenizers || ["word"];
      this.tokenizer = el("select", { testid: "tokenizer", onchange: () => this.run() },
        tokenizers.map((t) => el("option", { value: t }, t === "kiwi" ? "kiwi (Korean morphemes)" : t)));
      const examples = (this.info.examples || []).map((ex, i) => el("button", { type: "button",
        class: "chip", testid: `example-${i}`, title: ex,
        onclick: () => { this.textarea.value = ex; this.run(); } }, ex.length > 42 ? ex.slice(0, 40) + "…" : ex));
      this.classesBox = el("div", { class: "top-classes", testid: "text-classes" });
      const controls = el("div", { class: "text-controls" },
        el("label", { class: "param" }, el("span", { class: "param-name" }, "tokenizer"), this.tokenizer),
        el("button", { type: "button", class: "btn primary", testid: "text-run",
          onclick: () => this.run() }, "Explain"),
        el("span", { class: "muted hint" }, "Ctrl+Enter"));
      const input = el("section", { class: "text-input" },
        el("div", { class: "section-title" }, "Text"), this.textarea, controls,
        examples.length ? el("div", { class: "examples" }, el("span", { class: "muted" }, "examples"), examples) : null);
      const legend = el("div", { class: "legend tokens-legend" },
        el("span", { class: "key pos" }, "pushes toward the class"),
        el("span", { class: "key neg" }, "pushes away"));
      return el("div", { class: "text-view", testid: "text-view" },
        el("div", { class: "text-top" }, input, this.classesBox),
        el("div", { class: "mode-panels-head" }, legend),
        el("section", { class: "mode-panels", style: { gridTemplateColumns: `repeat(${Math.max(1, this.panels.length)}, minmax(0, 1fr))` } },
          this.panels.map((p) => p.root)));
    }

    drawClasses() {
      const selected = this.target ?? (this.classes && this.classes.length ? this.classes[0].index : null);
      const reset = this.target !== null
        ? el("button", { type: "button", class: "btn small", testid: "target-reset",
          onclick: () => { this.target = null; this.drawClasses(); this.runModes(); } }, "back to the top class")
        : null;
      this.classesBox.replaceChildren(
        el("div", { class: "section-title" }, "Prediction",
          el("span", { class: "muted hint" }, "click a class to explain it"), reset),
        classBars(this.classes || [], selected, (c) => {
          this.target = c.index;
          this.drawClasses();
          this.runModes();
        }, "classes"));
    }

    base() {
      const body = { text: this.textarea.value, tokenizer: this.tokenizer.value };
      if (this.target !== null) body.target = this.target;
      return body;
    }

    run() {
      this.predictRunner.run(this.name, { ...this.base(), mode: "predict", target: undefined }, false);
      this.runModes();
    }

    runModes() {
      for (const p of this.panels) this.runMode(p);
    }

    runMode(panel) {
      const body = { ...this.base(), mode: panel.mode.name, params: panel.params() };
      if (panel.mode.ready === false) {
        panel.wanted = body; // run once the model says the mode is ready
        panel.root.dataset.state = "waiting";
        panel.status.className = "status note";
        panel.status.textContent = panel.mode.unready || "This mode is not ready yet.";
        this.watchReadiness();
        return;
      }
      panel.text = body.text;
      panel.runner.run(this.name, body, panel.mode.long);
    }

    /* Modes the server is still preparing (a network training in the background): ask the
     * model's info every 2 s and run them once they are ready. */
    watchReadiness() {
      if (this.readinessTimer) return;
      const started = Date.now();
      const tick = async () => {
        this.readinessTimer = null;
        if (state.view !== this) return;
        let info;
        try {
          info = await api("GET", modelUrl(this.name));
        } catch (exc) {
          info = null;
        }
        let waiting = false;
        for (const panel of this.panels) {
          if (panel.mode.ready !== false) continue;
          const fresh = info && info.modes.find((m) => m.name === panel.mode.name);
          if (fresh && fresh.ready !== false) {
            panel.mode.ready = true;
            panel.status.textContent = "";
            if (panel.wanted) this.runMode(panel);
          } else {
            if (fresh && fresh.unready) panel.status.textContent = fresh.unready;
            waiting = true;
          }
        }
        if (waiting && Date.now() - started < 15 * 60 * 1000) {
          this.readinessTimer = setTimeout(tick, 2000);
        }
      };
      this.readinessTimer = setTimeout(tick, 2000);
    }

    drawResult(mode, result) {
      const tokens = result.tokens || [];
      const panel = this.panels.find((p) => p.mode === mode);
      const text = (panel && panel.text) || this.textarea.value;
      const facts = factList([
        ["class", result.target_label ? `${result.target_label} (#${result.target})` : null],
        ["tokens", tokens.length],
        ["seconds", result.seconds !== undefined ? fmt(result.seconds) : null],
        ["model calls", result.n_evals || null],
      ]);
      const top = [...tokens].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, 6);
      const topList = el("ol", { class: "top-tokens" }, top.map((t) => el("li", {},
        el("span", { class: "tok-text" }, t.text),
        el("span", { class: t.weight >= 0 ? "pos" : "neg" }, fmt(t.weight)))));
      return el("div", {}, tokenHighlights(text, tokens, `tokens-${mode.name}`), topList, facts);
    }
  }

  // ------------------------------------------------------------------ tabular
  function waterfall(result, maxDisplay) {
    const feats = result.features || [];
    const keep = feats.length > maxDisplay ? maxDisplay - 1 : feats.length;
    const shown = feats.slice(0, keep);
    const rest = feats.slice(keep);
    const rows = shown.map((f) => ({ label: `${f.name} = ${fmt(f.value)}`, weight: f.weight }));
    if (rest.length) rows.push({ label: `${rest.length} other features`, weight: rest.reduce((s, f) => s + f.weight, 0) });
    const base = result.base_value ?? 0;
    // contributions in display order: from the base value up to the output (largest first)
    let at = base;
    const steps = rows.slice().reverse().map((r) => {
      const from = at;
      at += r.weight;
      return { ...r, from, to: at };
    }).reverse();
    const out = result.output_value ?? at;
    const lo = Math.min(base, out, ...steps.map((s) => Math.min(s.from, s.to)));
    const hi = Math.max(base, out, ...steps.map((s) => Math.max(s.from, s.to)));
    const width = 520;
    const labelW = 200;
    const rowH = 22;
    const plotW = width - labelW - 70;
    const x = (v) => labelW + ((v - lo) / (hi - lo || 1)) * plotW;
    const height = (steps.length + 2) * rowH + 20;
    const g = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart waterfall",
      testid: "waterfall", role: "img", "aria-label": "SHAP waterfall" });
    g.append(svg("text", { x: labelW - 8, y: 14, class: "axis-label", "text-anchor": "end",
      text: `f(x) = ${fmt(out)}` }));
    g.append(svg("line", { x1: x(out), x2: x(out), y1: 18, y2: height - 18, class: "guide" }));
    steps.forEach((s, i) => {
      const y = 20 + i * rowH;
      const x0 = x(Math.min(s.from, s.to));
      const w = Math.max(1, Math.abs(x(s.to) - x(s.from)));
      const cls = s.weight >= 0 ? "pos" : "neg";
      g.append(svg("text", { x: labelW - 8, y: y + 15, "text-anchor": "end", class: "bar-label",
        text: s.label.length > 30 ? s.label.slice(0, 29) + "…" : s.label }, svg("title", { text: s.label })));
      g.append(svg("rect", { x: x0, y: y + 3, width: w, height: rowH - 6, class: `bar ${cls}`,
        testid: "waterfall-bar" }, svg("title", { text: `${s.label}: ${fmt(s.weight)}` })));
      const right = x0 + w + 4;
      g.append(svg("text", { x: right, y: y + 15, class: `bar-value ${cls}`,
        text: (s.weight >= 0 ? "+" : "") + fmt(s.weight) }));
    });
    const yb = 20 + steps.length * rowH;
    g.append(svg("line", { x1: x(base), x2: x(base), y1: 18, y2: yb + 4, class: "guide dashed" }));
    g.append(svg("text", { x: labelW - 8, y: yb + 15, "text-anchor": "end", class: "axis-label",
      text: `E[f(x)] = ${fmt(base)}` }));
    return g;
  }

  function signedBars(result) {
    const feats = (result.features || []).slice(0, 12);
    const max = Math.max(1e-12, ...feats.map((f) => Math.abs(f.weight)));
    const width = 520;
    const labelW = 200;
    const rowH = 22;
    const mid = labelW + (width - labelW - 60) / 2;
    const half = (width - labelW - 70) / 2;
    const height = feats.length * rowH + 10;
    const g = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart bars", testid: "lime-bars",
      role: "img", "aria-label": "weights" });
    g.append(svg("line", { x1: mid, x2: mid, y1: 0, y2: height, class: "guide" }));
    feats.forEach((f, i) => {
      const y = i * rowH + 4;
      const w = Math.max(1, (Math.abs(f.weight) / max) * half);
      const cls = f.weight >= 0 ? "pos" : "neg";
      const label = `${f.name} = ${fmt(f.value)}`;
      g.append(svg("text", { x: labelW - 8, y: y + 15, "text-anchor": "end", class: "bar-label",
        text: label.length > 30 ? label.slice(0, 29) + "…" : label }, svg("title", { text: label })));
      g.append(svg("rect", { x: f.weight >= 0 ? mid : mid - w, y: y + 3, width: w, height: rowH - 6,
        class: `bar ${cls}`, testid: "lime-bar" }, svg("title", { text: `${label}: ${fmt(f.weight)}` })));
      g.append(svg("text", { x: f.weight >= 0 ? mid + w + 4 : mid - w - 4, y: y + 15,
        "text-anchor": f.weight >= 0 ? "start" : "end", class: `bar-value ${cls}`,
        text: (f.weight >= 0 ? "+" : "") + fmt(f.weight) }));
    });
    return g;
  }

  /* The global view's permutation importances: a bar per feature (mean over the repeats)
   * with a whisker of one standard deviation, most important on top. */
  function importanceBars(result, maxDisplay = 15) {
    const feats = (result.importances || []).slice(0, maxDisplay);
    const lo = Math.min(0, ...feats.map((f) => f.mean - f.std));
    const hi = Math.max(1e-12, ...feats.map((f) => f.mean + f.std));
    const width = 520;
    const labelW = 190;
    const rowH = 20;
    const plotW = width - labelW - 60;
    const x = (v) => labelW + ((v - lo) / (hi - lo || 1)) * plotW;
    const height = feats.length * rowH + 26;
    const g = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart bars importance",
      testid: "importance-bars", role: "img", "aria-label": "permutation importance" });
    g.append(svg("line", { x1: x(0), x2: x(0), y1: 0, y2: height - 22, class: "guide" }));
    feats.forEach((f, i) => {
      const y = i * rowH + 2;
      const x0 = Math.min(x(0), x(f.mean));
      const w = Math.max(1, Math.abs(x(f.mean) - x(0)));
      const tip = `${f.name}: ${fmt(f.mean)} ± ${fmt(f.std)}`;
      g.append(svg("text", { x: labelW - 8, y: y + 14, "text-anchor": "end", class: "bar-label",
        text: f.name.length > 28 ? f.name.slice(0, 27) + "…" : f.name }, svg("title", { text: f.name })));
      g.append(svg("rect", { x: x0, y: y + 3, width: w, height: rowH - 6,
        class: `bar ${f.mean >= 0 ? "imp" : "neg"}`, testid: "importance-bar", "data-feature": f.name,
        "data-mean": f.mean }, svg("title", { text: tip })));
      if (f.std > 0) {
        const ym = y + rowH / 2;
        g.append(svg("line", { x1: x(f.mean - f.std), x2: x(f.mean + f.std), y1: ym, y2: ym, class: "whisker" }));
      }
      g.append(svg("text", { x: Math.max(x(f.mean), x(f.mean + f.std)) + 4, y: y + 14,
        class: "bar-value", text: fmt(f.mean) }));
    });
    const yAxis = feats.length * rowH + 16;
    g.append(svg("text", { x: x(0), y: yAxis, "text-anchor": "middle", class: "axis-label", text: "0" }));
    g.append(svg("text", { x: labelW + plotW, y: yAxis, "text-anchor": "end", class: "axis-label",
      text: `drop in ${result.scorer || "score"}` }));
    return g;
  }

  /* One small partial dependence chart: the average output of class `t` over the grid. */
  function pdpChart(curve, t, className) {
    const ys = (curve.average && curve.average[t]) || [];
    const xs = curve.grid || [];
    const width = 240;
    const height = 150;
    const m = { l: 40, r: 10, t: 20, b: 28 };
    let lo = Math.min(...ys);
    let hi = Math.max(...ys);
    if (!(hi - lo > 1e-9)) {
      lo -= 0.05;
      hi += 0.05;
    }
    const pad = 0.08 * (hi - lo);
    lo -= pad;
    hi += pad;
    const x0 = xs[0];
    const x1 = xs[xs.length - 1];
    const px = (v) => m.l + ((v - x0) / (x1 - x0 || 1)) * (width - m.l - m.r);
    const py = (v) => height - m.b - ((v - lo) / (hi - lo || 1)) * (height - m.t - m.b);
    const g = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart pdp", testid: "pdp-chart",
      "data-feature": curve.name, role: "img", "aria-label": `partial dependence on ${curve.name}` });
    g.append(svg("rect", { x: m.l, y: m.t, width: width - m.l - m.r, height: height - m.t - m.b,
      class: "pdp-frame" }));
    g.append(svg("text", { x: m.l, y: 13, class: "chart-title",
      text: curve.name.length > 34 ? curve.name.slice(0, 33) + "…" : curve.name }, svg("title", { text: curve.name })));
    const points = xs.map((v, i) => `${px(v).toFixed(1)},${py(ys[i]).toFixed(1)}`).join(" ");
    g.append(svg("polyline", { points, class: "pdp-line", testid: "pdp-line" },
      svg("title", { text: `P(${className}) as ${curve.name} varies` })));
    g.append(svg("text", { x: m.l - 4, y: m.t + 9, "text-anchor": "end", class: "axis-label", text: fmt(hi, 2) }));
    g.append(svg("text", { x: m.l - 4, y: height - m.b, "text-anchor": "end", class: "axis-label", text: fmt(lo, 2) }));
    g.append(svg("text", { x: m.l, y: height - m.b + 14, class: "axis-label", text: fmt(x0) }));
    g.append(svg("text", { x: width - m.r, y: height - m.b + 14, "text-anchor": "end", class: "axis-label", text: fmt(x1) }));
    return g;
  }

  class TabularView {
    constructor(name, info) {
      this.name = name;
      this.info = info;
      this.row = 0;
      this.values = info.rows.length ? [...info.rows[0]] : info.feature_names.map(() => 0);
      this.edited = false;
      this.target = null;
      this.predictRunner = predictionRunner(() => this.prediction, (classes) => {
        this.classes = classes;
        this.drawPrediction();
      });
      this.panels = info.modes.filter((m) => m.name !== "predict").map((m, i) =>
        new ModePanel(this, m, i, (result) => this.drawResult(m, result)));
      // the global view: the whole table, no row; computed when opened
      this.globalClass = null;
      this.globalResult = null;
      this.globalPanel = info.global
        ? new ModePanel(this, info.global, -1, (result) => this.drawGlobal(result)) : null;
      this.root = this.layout();
    }

    dispose() {
      this.predictRunner.dispose();
      for (const p of this.panels) p.runner.dispose();
      if (this.globalPanel) this.globalPanel.runner.dispose();
    }

    begin() {
      this.pickRow(0);
    }

    layout() {
      const names = this.info.class_names || [];
      this.rowSelect = el("select", { testid: "row-select", onchange: (e) => this.pickRow(Number(e.target.value)) },
        this.info.rows.map((r, i) => el("option", { value: i },
          `row ${i}` + (this.info.row_labels ? ` · true: ${names[this.info.row_labels[i]] ?? this.info.row_labels[i]}` : ""))));
      const step = (d) => {
        const n = this.info.rows.length;
        this.pickRow((this.row + d + n) % n);
      };
      this.inputs = [];
      const ranges = this.info.ranges || [];
      const editor = el("div", { class: "whatif", testid: "whatif" });
      this.info.feature_names.forEach((fname, i) => {
        const r = ranges[i] || {};
        const input = el("input", { type: "number", testid: `feature-${i}`, "data-feature": fname,
          min: r.min, max: r.max, step: r.step || "any", title: r.min !== undefined ? `${fname}: ${fmt(r.min)} … ${fmt(r.max)}` : fname });
        input.addEventListener("change", () => {
          if (input.value === "" || Number.isNaN(Number(input.value))) return;
          this.values[i] = Number(input.value);
          this.edited = true;
          this.markEdited();
          this.run();
        });
        this.inputs.push(input);
        editor.append(el("label", { class: "feature" }, el("span", { class: "feature-name", title: fname }, fname), input));
      });
      this.prediction = el("div", { class: "top-classes", testid: "tab-prediction" });
      this.editedNote = el("span", { class: "muted", testid: "whatif-note" });
      const left = el("section", { class: "tab-left" },
        el("div", { class: "section-title" }, "Row"),
        el("div", { class: "row-picker" },
          el("button", { type: "button", class: "btn tiny", testid: "row-prev", onclick: () => step(-1) }, "‹"),
          this.rowSelect,
          el("button", { type: "button", class: "btn tiny", testid: "row-next", onclick: () => step(1) }, "›")),
        el("div", { class: "section-title" }, "What if…", this.editedNote,
          el("button", { type: "button", class: "btn small", testid: "whatif-reset",
            onclick: () => this.pickRow(this.row) }, "reset")),
        editor);
      const right = el("section", { class: "tab-right" }, this.prediction,
        el("section", { class: "mode-panels", style: { gridTemplateColumns: `repeat(${Math.max(1, this.panels.length)}, minmax(0, 1fr))` } },
          this.panels.map((p) => p.root)),
        this.globalPanel ? this.globalLayout() : null);
      return el("div", { class: "tabular-view", testid: "tabular-view" }, left, right);
    }

    globalLayout() {
      const p = this.globalPanel;
      p.root.classList.add("global-panel", "collapsed");
      this.globalToggle = el("button", { type: "button", class: "btn small primary", testid: "global-open",
        "aria-expanded": "false", onclick: () => this.toggleGlobal() }, "Show");
      p.root.querySelector(".panel-head h3").after(
        el("span", { class: "muted hint global-hint" }, "the whole table: which features matter, and how"),
        this.globalToggle);
      return p.root;
    }

    toggleGlobal() {
      const p = this.globalPanel;
      const open = p.root.classList.toggle("collapsed") === false;
      this.globalToggle.textContent = open ? "Hide" : "Show";
      this.globalToggle.setAttribute("aria-expanded", open ? "true" : "false");
      this.globalToggle.classList.toggle("primary", !open);
      if (open && !this.globalResult && p.root.dataset.state !== "running") this.runMode(p);
    }

    markEdited() {
      const row = this.info.rows[this.row] || [];
      let n = 0;
      this.inputs.forEach((input, i) => {
        const changed = row[i] !== undefined && this.values[i] !== row[i];
        input.classList.toggle("edited", changed);
        n += changed ? 1 : 0;
      });
      this.editedNote.textContent = n ? `${n} value${n === 1 ? "" : "s"} changed from row ${this.row}` : "";
    }

    pickRow(i) {
      this.row = i;
      this.rowSelect.value = String(i);
      this.values = [...(this.info.rows[i] || this.values)];
      this.edited = false;
      this.inputs.forEach((input, j) => { input.value = String(this.values[j]); });
      this.markEdited();
      this.run();
    }

    base() {
      const body = this.edited ? { values: this.values } : { row: this.row };
      if (this.target !== null) body.target = this.target;
      return body;
    }

    run() {
      const { target, ...base } = this.base();
      this.predictRunner.run(this.name, { ...base, mode: "predict" }, false);
      for (const p of this.panels) this.runMode(p);
    }

    runMode(panel) {
      if (panel === this.globalPanel) {
        if (panel.root.classList.contains("collapsed")) this.toggleGlobal();
        panel.runner.run(this.name, { mode: "global", params: panel.params() }, true);
        return;
      }
      panel.runner.run(this.name, { ...this.base(), mode: panel.mode.name, params: panel.params() },
        panel.mode.long);
    }

    drawPrediction() {
      const classes = this.classes || [];
      const selected = this.target ?? (classes.length ? classes[0].index : null);
      const top = classes[0];
      const names = this.info.class_names || [];
      const truth = this.info.row_labels && !this.edited ? this.info.row_labels[this.row] : null;
      const reset = this.target !== null
        ? el("button", { type: "button", class: "btn small", testid: "target-reset",
          onclick: () => { this.target = null; this.drawPrediction(); this.panels.forEach((p) => this.runMode(p)); } },
        "back to the top class")
        : null;
      this.prediction.replaceChildren(
        el("div", { class: "section-title" }, "Prediction",
          top ? el("b", { testid: "prediction-label", class: "prediction" }, `${top.label} (${pct(top.p)})`) : null,
          truth !== null && truth !== undefined ? el("span", { class: "muted" }, `true class: ${names[truth] ?? truth}`) : null,
          this.edited ? el("span", { class: "badge" }, "what-if") : null, reset),
        classBars(classes, selected, (c) => {
          this.target = c.index;
          this.drawPrediction();
          this.panels.forEach((p) => this.runMode(p));
        }, "classes"));
    }

    drawResult(mode, result) {
      const chart = mode.name === "shap" || (result.base_value !== undefined && result.output_value !== undefined && mode.name !== "lime")
        ? waterfall(result, Number(this.panels.find((p) => p.mode === mode).params().max_display) || 10)
        : signedBars(result);
      const facts = factList([
        ["class", result.target_label ? `${result.target_label} (#${result.target})` : null],
        ["base value", result.base_value !== undefined ? fmt(result.base_value) : null],
        ["output", result.output_value !== undefined ? fmt(result.output_value) : null],
        ["seconds", result.seconds !== undefined ? fmt(result.seconds) : null],
        ["model calls", result.n_evals || null],
      ]);
      return el("div", {}, chart, facts);
    }

    /* The global view: importance bars, and small PDP charts of the top features for one
     * class (picked here; the curves of every class came with the result). */
    drawGlobal(result) {
      this.globalResult = result;
      const classes = result.pdp_classes || [];
      if (this.globalClass === null || this.globalClass >= classes.length) {
        this.globalClass = this.target ?? (classes.length === 2 ? 1 : 0);
      }
      const redraw = () => this.globalPanel.body.replaceChildren(this.drawGlobal(this.globalResult));
      const pick = el("select", { testid: "global-class",
        onchange: (e) => { this.globalClass = Number(e.target.value); redraw(); } },
      classes.map((c, i) => el("option", { value: i, selected: i === this.globalClass }, c)));
      const className = classes[this.globalClass] ?? "";
      const facts = factList([
        ["rows", result.n_rows],
        ["repeats", result.n_repeats],
        ["baseline", result.baseline !== undefined ? `${result.scorer} ${fmt(result.baseline)}` : null],
        ["scored against", result.scored_against],
        ["seconds", result.seconds !== undefined ? fmt(result.seconds) : null],
        ["model calls", result.n_evals || null],
      ]);
      return el("div", { class: "global-body", testid: "global-body" },
        el("div", { class: "global-part" },
          el("div", { class: "section-title" }, "Permutation importance",
            el("span", { class: "muted hint" }, "score drop when a feature is shuffled")),
          importanceBars(result)),
        el("div", { class: "global-part" },
          el("div", { class: "section-title" }, "Partial dependence",
            el("span", { class: "muted hint" }, `mean P(${className}) over the rows`),
            el("label", { class: "param inline" }, el("span", { class: "param-name" }, "class"), pick)),
          el("div", { class: "pdp-grid", testid: "pdp-grid" },
            (result.pdp || []).map((c) => pdpChart(c, this.globalClass, className)))),
        facts);
    }
  }

  start();
})();
