// lrdecay explorer: the page. Every value it draws comes from the server (POST /api/curve), which
// evaluates the schedules with lrdecay itself; this file only lays them out.
"use strict";

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#c026d3", "#4d7c0f"];
const MAX_SPECS = 8;
const DEBOUNCE_MS = 200;
const MARGIN = { left: 72, right: 18, top: 14, bottom: 38 };
const SVG = "http://www.w3.org/2000/svg";

const state = { specs: [], selected: 0, steps: null, log: false, start: null, stop: null, tab: "check" };
let curve = null;   // last answer of /api/curve
let checks = null;  // last answer of /api/check
let kinds = [];
let sequence = 0;
let timer = null;
let frame = null;   // the chart's geometry, for hover and zoom

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

function svgElement(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

// -- the URL keeps the view -----------------------------------------------------------------

function readUrl() {
  const query = new URLSearchParams(location.search);
  state.specs = query.getAll("s").slice(0, MAX_SPECS);
  if (state.specs.length === 0) state.specs = ["warmup(cosine_decay(0.1, decay_steps=9000), steps=1000)"];
  const whole = (name) => {
    const value = query.get(name);
    return value !== null && /^\d+$/.test(value) ? Number(value) : null;
  };
  state.steps = whole("steps");
  state.start = whole("from");
  state.stop = whole("to");
  if (state.start === null || state.stop === null || state.stop <= state.start) state.start = state.stop = null;
  state.log = query.get("log") === "1";
  state.selected = Math.min(whole("sel") || 0, state.specs.length - 1);
  const tab = query.get("tab");
  if (tab && document.querySelector(`#tabs [data-tab="${CSS.escape(tab)}"]`)) state.tab = tab;
}

function writeUrl() {
  const query = new URLSearchParams();
  for (const spec of state.specs) query.append("s", spec);
  if (state.steps !== null) query.set("steps", String(state.steps));
  if (state.log) query.set("log", "1");
  if (state.start !== null) { query.set("from", String(state.start)); query.set("to", String(state.stop)); }
  if (state.selected) query.set("sel", String(state.selected));
  if (state.tab !== "check") query.set("tab", state.tab);
  history.replaceState(null, "", `${location.pathname}?${query}`);
}

// -- talking to the server ------------------------------------------------------------------

const inFlight = {};  // path -> AbortController of the request whose answer is still wanted

async function post(path, body) {
  if (inFlight[path]) inFlight[path].abort();  // a newer question replaces it
  const controller = new AbortController();
  inFlight[path] = controller;
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    signal: controller.signal,
  });
  const payload = await response.json();
  if (!response.ok) throw new Error(payload.error || `${response.status} ${response.statusText}`);
  return payload;
}

function setStatus(stateName, text) {
  const status = $("#status");
  status.dataset.state = stateName;
  status.textContent = text;
}

function schedule() {
  setStatus("pending", "…");
  clearTimeout(timer);
  timer = setTimeout(refresh, DEBOUNCE_MS);
}

async function refresh() {
  const mine = ++sequence;
  writeUrl();
  const width = $("#chart").clientWidth || 800;
  const body = {
    specs: state.specs, steps: state.steps, start: state.start, stop: state.stop,
    points: Math.max(200, Math.min(4000, Math.round(width * 2))),
  };
  setStatus("loading", "computing…");
  try {
    const answer = await post("/api/curve", body);
    if (mine !== sequence) return;
    curve = answer;
    checks = null;
    render();
    setStatus("drawn", `${answer.x.length} points, checking…`);
  } catch (error) {
    if (mine !== sequence || error.name === "AbortError") return;
    setStatus("error", error.message);
    return;
  }
  try {
    const answer = await post("/api/check", { specs: state.specs, steps: state.steps });
    if (mine !== sequence) return;
    checks = answer;
    renderEditors();
    renderPanel();
    setStatus("ready", `${curve.x.length} points`);  // everything on the page is up to date
  } catch (error) {
    if (mine === sequence && error.name !== "AbortError") setStatus("error", `check: ${error.message}`);
  }
}

// -- editors --------------------------------------------------------------------------------

function buildEditors() {
  const box = $("#schedules");
  box.replaceChildren();
  state.specs.forEach((spec, index) => {
    const editor = element("div", { class: "editor", "data-index": String(index) });
    editor.style.setProperty("--color", COLORS[index % COLORS.length]);
    const bar = element("div", { class: "bar" });
    bar.append(element("span", {}, `schedule ${index + 1}`));
    if (state.specs.length > 1) {
      const remove = element("button", { class: "remove", type: "button", title: "remove this schedule" }, "×");
      remove.addEventListener("click", () => {
        state.specs.splice(index, 1);
        state.selected = Math.min(state.selected, state.specs.length - 1);
        buildEditors();
        schedule();
      });
      bar.append(remove);
    }
    const area = element("textarea", { class: "spec", spellcheck: "false", "aria-label": `schedule ${index + 1}` });
    area.value = spec;
    area.addEventListener("input", () => { state.specs[index] = area.value; schedule(); });
    area.addEventListener("focus", () => select(index));
    editor.addEventListener("click", () => select(index));
    editor.append(bar, area, element("div", { class: "error", hidden: "" }), element("ul", { class: "warnings" }));
    box.append(editor);
  });
  $("#add").disabled = state.specs.length >= MAX_SPECS;
  renderEditors();
}

function select(index) {
  if (state.selected === index) return;
  state.selected = index;
  writeUrl();
  renderEditors();
  renderPanel();
}

function renderEditors() {
  document.querySelectorAll(".editor").forEach((editor, index) => {
    editor.classList.toggle("selected", index === state.selected);
    const series = curve && curve.series[index];
    const error = editor.querySelector(".error");
    if (series && !series.ok) {
      error.replaceChildren(document.createTextNode(series.error.message));
      const where = pointAt(state.specs[index], series.error.line, series.error.column);
      if (where) error.append(element("code", {}, where));
      error.hidden = false;
    } else {
      error.hidden = true;
      error.replaceChildren();
    }
    const list = editor.querySelector(".warnings");
    list.replaceChildren();
    const result = checks && checks.results[index];
    if (result && result.ok) for (const warning of result.warnings) list.append(element("li", { class: "warning" }, warning));
  });
}

// The line the parser points at, with a caret under the column.
function pointAt(text, line, column) {
  if (!line || !column) return null;
  const lines = text.split("\n");
  const source = lines[line - 1];
  if (source === undefined) return null;
  return `${source}\n${" ".repeat(Math.max(0, column - 1))}^`;
}

// -- the chart ------------------------------------------------------------------------------

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const k of [1, 2, 5, 10]) if (k * power >= raw) return k * power;
  return 10 * power;
}

function linearTicks(low, high, count) {
  if (!(high > low)) return [low];
  const step = niceStep(high - low, count);
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function logTicks(low, high) {
  const ticks = [];
  const first = Math.floor(Math.log10(low)), last = Math.ceil(Math.log10(high));
  const few = last - first <= 2;
  for (let e = first; e <= last; e++) {
    for (const k of few ? [1, 2, 5] : [1]) {
      const v = k * 10 ** e;
      if (v >= low * (1 - 1e-12) && v <= high * (1 + 1e-12)) ticks.push(v);
    }
  }
  return ticks;
}

function formatValue(v) {
  if (v === null || v === undefined) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(6))) : v.toExponential(3);
}

function formatStep(v) {
  return Math.abs(v) >= 1e6 ? v.toExponential(2) : String(Math.round(v));
}

function render() {
  renderEditors();
  renderChart();
  renderPanel();
  $("#reset-zoom").disabled = state.start === null;
  $("#window").textContent = curve ? `steps ${curve.start} … ${curve.stop} of ${curve.steps}` : "";
}

function renderChart() {
  const svg = $("#chart");
  svg.replaceChildren();
  hideTip();
  if (!curve) return;
  const width = svg.clientWidth || 800, height = svg.clientHeight || 380;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const plot = { x0: MARGIN.left, x1: width - MARGIN.right, y0: height - MARGIN.bottom, y1: MARGIN.top };
  const xs = curve.x;
  let low = Infinity, high = -Infinity;
  curve.series.forEach((s) => {
    if (!s.ok) return;
    for (const v of s.y) {
      if (v === null || (state.log && !(v > 0))) continue;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  });
  if (!Number.isFinite(low)) {
    svg.append(svgElement("text", { class: "empty", x: width / 2, y: height / 2, "text-anchor": "middle" },
      state.log ? "nothing positive to draw on a log axis" : "nothing to draw"));
    frame = null;
    return;
  }
  let scaleY, ticksY;
  if (state.log) {
    if (high === low) { low /= 2; high *= 2; }
    const l0 = Math.log10(low), l1 = Math.log10(high);
    scaleY = (v) => plot.y0 + (Math.log10(v) - l0) / (l1 - l0) * (plot.y1 - plot.y0);
    ticksY = logTicks(low, high);
  } else {
    low = Math.min(0, low);
    if (high === low) high = low + (Math.abs(low) || 1);
    high += (high - low) * 0.04;
    scaleY = (v) => plot.y0 + (v - low) / (high - low) * (plot.y1 - plot.y0);
    ticksY = linearTicks(low, high, 6);
  }
  const xLow = curve.start, xHigh = Math.max(curve.stop, curve.start + 1);
  const scaleX = (step) => plot.x0 + (step - xLow) / (xHigh - xLow) * (plot.x1 - plot.x0);
  const grid = svgElement("g", { class: "grid" }), axis = svgElement("g", { class: "axis" });
  for (const v of ticksY) {
    const y = scaleY(v);
    grid.append(svgElement("line", { x1: plot.x0, x2: plot.x1, y1: y, y2: y }));
    axis.append(svgElement("text", { x: plot.x0 - 6, y: y + 4, "text-anchor": "end" }, formatValue(v)));
  }
  for (const v of linearTicks(xLow, xHigh, 8).filter((t) => Number.isInteger(t) || xHigh - xLow < 8)) {
    const x = scaleX(v);
    grid.append(svgElement("line", { x1: x, x2: x, y1: plot.y0, y2: plot.y1 }));
    axis.append(svgElement("text", { x, y: plot.y0 + 16, "text-anchor": "middle" }, formatStep(v)));
  }
  axis.append(svgElement("text", { x: (plot.x0 + plot.x1) / 2, y: height - 4, "text-anchor": "middle" }, "step"));
  axis.append(svgElement("text", {
    transform: `translate(12, ${(plot.y0 + plot.y1) / 2}) rotate(-90)`, "text-anchor": "middle",
  }, state.log ? "value (log scale)" : "value"));
  svg.append(grid, axis, svgElement("rect", {
    class: "frame", x: plot.x0, y: plot.y1, width: plot.x1 - plot.x0, height: plot.y0 - plot.y1,
  }));
  curve.series.forEach((s, index) => {
    if (!s.ok) return;
    let d = "", pen = "M";
    for (let i = 0; i < xs.length; i++) {
      const v = s.y[i];
      if (v === null || (state.log && !(v > 0))) { pen = "M"; continue; }
      d += `${pen}${scaleX(xs[i]).toFixed(2)},${scaleY(v).toFixed(2)}`;
      pen = "L";
    }
    svg.append(svgElement("path", { class: "series", d, stroke: COLORS[index % COLORS.length], "data-series": String(index) }));
    if (xs.length === 1 && d) {  // a one-step run: a dot, since a path of one point draws nothing
      svg.append(svgElement("circle", { cx: scaleX(xs[0]), cy: scaleY(s.y[0]), r: 4, fill: COLORS[index % COLORS.length] }));
    }
  });
  const overlay = svgElement("rect", {
    class: "overlay", x: plot.x0, y: plot.y1, width: plot.x1 - plot.x0, height: plot.y0 - plot.y1, fill: "transparent",
  });
  svg.append(overlay);
  frame = { plot, scaleX, scaleY, xLow, xHigh };
}

function stepAt(clientX) {
  const box = $("#chart").getBoundingClientRect();
  const x = clientX - box.left;
  const { plot, xLow, xHigh } = frame;
  const fraction = Math.min(1, Math.max(0, (x - plot.x0) / (plot.x1 - plot.x0)));
  return xLow + fraction * (xHigh - xLow);
}

function nearestIndex(step) {
  const xs = curve.x;
  let lo = 0, hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= step) lo = mid; else hi = mid;
  }
  return Math.abs(xs[hi] - step) < Math.abs(xs[lo] - step) ? hi : lo;
}

function hideTip() {
  $("#tip").hidden = true;
  const svg = $("#chart");
  svg.querySelectorAll(".cursor, .dot").forEach((n) => n.remove());
}

function showTip(clientX) {
  if (!frame || !curve) return;
  const index = nearestIndex(stepAt(clientX));
  const step = curve.x[index];
  const svg = $("#chart");
  svg.querySelectorAll(".cursor, .dot").forEach((n) => n.remove());
  const x = frame.scaleX(step);
  svg.append(svgElement("line", { class: "cursor", x1: x, x2: x, y1: frame.plot.y0, y2: frame.plot.y1 }));
  const tip = $("#tip");
  tip.replaceChildren(element("div", { class: "step" }, `step ${step}`));
  tip.dataset.step = String(step);
  curve.series.forEach((s, i) => {
    if (!s.ok) return;
    const v = s.y[index];
    const row = element("div", { class: "row", "data-series": String(i), "data-value": v === null ? "" : String(v) });
    const swatch = element("span", { class: "swatch" });
    swatch.style.setProperty("--color", COLORS[i % COLORS.length]);
    row.append(swatch, document.createTextNode(formatValue(v)));
    tip.append(row);
    if (v !== null && (!state.log || v > 0)) {
      svg.append(svgElement("circle", { class: "dot", cx: x, cy: frame.scaleY(v), r: 3.5, fill: COLORS[i % COLORS.length] }));
    }
  });
  tip.hidden = false;
  const box = $("#chart-box").clientWidth;
  tip.style.left = `${x + 14 + tip.offsetWidth > box ? x - 14 - tip.offsetWidth : x + 14}px`;
  tip.style.top = `${frame.plot.y1 + 6}px`;
}

function wireChart() {
  const svg = $("#chart");
  let dragFrom = null;
  svg.addEventListener("mousedown", (event) => {
    if (!frame) return;
    dragFrom = event.clientX;
    event.preventDefault();
  });
  svg.addEventListener("mousemove", (event) => {
    if (!frame) return;
    showTip(event.clientX);
    svg.querySelectorAll(".selection").forEach((n) => n.remove());
    if (dragFrom !== null) {
      const box = svg.getBoundingClientRect();
      const a = Math.max(frame.plot.x0, Math.min(dragFrom, event.clientX) - box.left);
      const b = Math.min(frame.plot.x1, Math.max(dragFrom, event.clientX) - box.left);
      svg.append(svgElement("rect", { class: "selection", x: a, y: frame.plot.y1, width: Math.max(0, b - a), height: frame.plot.y0 - frame.plot.y1 }));
    }
  });
  svg.addEventListener("mouseleave", () => { hideTip(); });
  window.addEventListener("mouseup", (event) => {
    if (dragFrom === null) return;
    const from = dragFrom;
    dragFrom = null;
    svg.querySelectorAll(".selection").forEach((n) => n.remove());
    if (!frame || Math.abs(event.clientX - from) < 6) return;
    let a = Math.floor(stepAt(Math.min(from, event.clientX)));
    let b = Math.ceil(stepAt(Math.max(from, event.clientX)));
    if (b - a < 2) b = a + 2;
    state.start = a;
    state.stop = b;
    schedule();
  });
  svg.addEventListener("dblclick", zoomOut);
  window.addEventListener("resize", () => { if (curve) renderChart(); });
}

function zoomOut() {
  state.start = state.stop = null;
  schedule();
}

// -- the panel: check, the spec written out, code -------------------------------------------

function renderPanel() {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === state.tab));
  const panel = $("#panel");
  panel.replaceChildren();
  const series = curve && curve.series[state.selected];
  if (!series) return;
  if (!series.ok) {
    panel.append(element("p", { class: "error" }, `schedule ${state.selected + 1}: ${series.error.message}`));
    return;
  }
  if (state.tab === "check") {
    const result = checks && checks.results[state.selected];
    if (!result) { panel.append(element("p", { class: "hint" }, "checking…")); return; }
    if (!result.ok) { panel.append(element("p", { class: "error" }, result.error.message)); return; }
    const s = result.summary;
    const table = element("table", { id: "summary" });
    const rows = [
      ["schedule", s.schedule],
      ["steps", `0 … ${s.steps - 1}${s.sampled ? " (evenly spaced sample)" : ""}`],
      ["start", formatValue(s.start)],
      ["peak", `${formatValue(s.peak)} at step ${s.peak_step}`],
      ["end", formatValue(s.end)],
      ["minimum", `${formatValue(s.minimum)} first at step ${s.minimum_step}`],
      ["duration", s.duration === null ? "unbounded (never stops changing)" : `${s.duration} steps`],
    ];
    for (const [name, value] of rows) {
      const tr = element("tr");
      tr.append(element("td", {}, name), element("td", {}, value));
      table.append(tr);
    }
    panel.append(table);
    if (result.warnings.length === 0) panel.append(element("p", { class: "ok" }, "ok: no likely mistakes found"));
    const list = element("ul", { class: "warnings" });
    for (const warning of result.warnings) list.append(element("li", { class: "warning" }, warning));
    panel.append(list);
    return;
  }
  const text = ["pytorch", "keras", "optax"].includes(state.tab) ? series.code[state.tab] : series[state.tab];
  const copy = element("button", { class: "copy", type: "button" }, "copy");
  copy.addEventListener("click", () => copyText(text, copy));
  panel.append(copy, element("pre", { id: `out-${state.tab}` }, text));
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "copied";
  } catch (error) {
    button.textContent = "select and copy by hand";
  }
  setTimeout(() => { button.textContent = button.id === "share" ? "Copy link" : "copy"; }, 1500);
}

// -- building a spec from a kind's parameters -----------------------------------------------

function pythonString(text) {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function unquote(literal) {
  const match = (literal || "").match(/^'(.*)'$|^"(.*)"$/s);
  return match ? (match[1] ?? match[2]) : (literal || "");
}

function sliderRange(value, integer) {
  const v = Number(value);
  if (!Number.isFinite(v) || v === 0) return integer ? [0, 100, 1] : [0, 1, 0.001];
  const top = niceStep(Math.abs(v) * 3, 1);
  const high = integer ? Math.max(10, Math.ceil(top)) : top;
  return [v < 0 ? -high : 0, high, integer ? 1 : high / 1000];
}

function showKind(name) {
  const fields = $("#fields");
  fields.replaceChildren();
  const kind = kinds.find((k) => k.kind === name);
  $("#kind-summary").textContent = kind ? `${kind.summary}${kind.matches ? ` — matches ${kind.matches}` : ""}` : "";
  if (!kind) return;
  const inputs = [];
  for (const field of kind.fields) {
    const row = element("div", { class: "field" });
    const id = `field-${field.name}`;
    row.append(element("label", { for: id, title: field.name }, field.name));
    let read;
    if (field.input === "number" || field.input === "integer") {
      const integer = field.input === "integer";
      const [low, high, step] = sliderRange(field.value, integer);
      const slider = element("input", { type: "range", min: low, max: high, step, "aria-label": `${field.name} slider` });
      const number = element("input", { type: "number", id, step: integer ? 1 : "any", placeholder: field.optional ? "None" : "" });
      number.value = field.value === null || field.value === "None" ? "" : field.value;
      slider.value = number.value === "" ? low : number.value;
      slider.addEventListener("input", () => { number.value = slider.value; changed(); });
      number.addEventListener("input", () => { if (number.value !== "") slider.value = number.value; changed(); });
      row.append(slider, number);
      read = () => (number.value === "" ? (field.optional ? "None" : "") : number.value);
    } else if (field.input === "bool") {
      const box = element("input", { type: "checkbox", id });
      box.checked = field.value === "True";
      box.addEventListener("change", changed);
      row.append(box);
      read = () => (box.checked ? "True" : "False");
    } else {
      const text = element("input", { type: "text", id, spellcheck: "false" });
      text.value = field.input === "text" ? unquote(field.value) : (field.value ?? "");
      text.addEventListener("input", changed);
      row.append(text);
      read = () => (field.input === "text" ? pythonString(text.value) : text.value.trim());
    }
    inputs.push({ field, read });
    fields.append(row);
  }
  function changed() {
    const parts = [];
    for (const { field, read } of inputs) {
      const value = read();
      if (field.default !== null && value === field.default) continue;
      parts.push(`${field.name}=${value}`);
    }
    const text = `${kind.kind}(${parts.join(", ")})`;
    state.specs[state.selected] = text;
    const area = document.querySelector(`.editor[data-index="${state.selected}"] textarea`);
    if (area) area.value = text;
    schedule();
  }
  changed();
}

async function loadKinds() {
  try {
    const response = await fetch("/api/kinds");
    kinds = (await response.json()).kinds;
  } catch (error) {
    setStatus("error", `kinds: ${error.message}`);
    return;
  }
  const select = $("#kind");
  for (const kind of kinds) select.append(element("option", { value: kind.kind }, kind.kind));
  select.addEventListener("change", () => showKind(select.value));
}

// -- start ----------------------------------------------------------------------------------

function start() {
  readUrl();
  $("#steps").value = state.steps === null ? "" : String(state.steps);
  $("#log").checked = state.log;
  $("#steps").addEventListener("input", () => {
    const text = $("#steps").value.trim();
    state.steps = /^\d+$/.test(text) && Number(text) >= 1 ? Number(text) : null;
    state.start = state.stop = null;
    schedule();
  });
  $("#log").addEventListener("change", () => { state.log = $("#log").checked; writeUrl(); renderChart(); });
  $("#reset-zoom").addEventListener("click", zoomOut);
  $("#add").addEventListener("click", () => {
    if (state.specs.length >= MAX_SPECS) return;
    state.specs.push(state.specs[state.selected] || "cosine_decay(0.1, 1000)");
    state.selected = state.specs.length - 1;
    buildEditors();
    schedule();
  });
  document.querySelectorAll("#tabs button").forEach((button) => button.addEventListener("click", () => {
    state.tab = button.dataset.tab;
    writeUrl();
    renderPanel();
  }));
  $("#share").addEventListener("click", () => copyText(location.href, $("#share")));
  wireChart();
  buildEditors();
  loadKinds();
  refresh();
}

document.addEventListener("DOMContentLoaded", start);
