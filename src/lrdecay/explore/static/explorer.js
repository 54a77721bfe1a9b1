// lrdecay explorer: the page. Every value it draws comes from the server (POST /api/curve), which
// evaluates the schedules with lrdecay itself; this file lays them out, with uPlot
// (vendor/uplot/) drawing the charts.
"use strict";

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#c026d3", "#4d7c0f"];
const MAX_SPECS = 8;
const MAX_STEP = 2 ** 53;  // the largest step the server evaluates
const DEBOUNCE_MS = 200;
const LEGEND_CHARS = 48;   // a spec longer than this is shortened in the legends
const STEP_INCRS = [];     // whole steps between the step axis' ticks
for (let p = 1; p <= 1e15; p *= 10) STEP_INCRS.push(p, 2 * p, 5 * p);

// specs: each schedule's text and the texts it had before the form replaced it (for Undo).
// law: the fitted loss law loaded from a file (its JSON), or null.
const state = { specs: [], selected: 0, steps: null, log: false, start: null, stop: null, tab: "check", law: null };
let curve = null;     // last answer of /api/curve
let checks = null;    // last answer of /api/check
let forecast = null;  // for the key of its request: the curves of /api/forecast, or a message (pending or failed)
let kinds = [];
let sequence = 0;
let timer = null;
const charts = { lr: null, loss: null };  // the uPlot charts

const $ = (selector) => document.querySelector(selector);
const color = (index) => COLORS[index % COLORS.length];
const texts = () => state.specs.map((spec) => spec.text);

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

// -- the URL keeps the view -----------------------------------------------------------------

function readUrl() {
  const query = new URLSearchParams(location.search);
  const specs = query.getAll("s").slice(0, MAX_SPECS);
  if (specs.length === 0) specs.push("warmup(cosine_decay(0.1, decay_steps=9000), steps=1000)");
  state.specs = specs.map((text) => ({ text, undo: [] }));
  const whole = (name) => {
    const value = query.get(name);
    return value !== null && /^\d+$/.test(value) && Number(value) <= MAX_STEP ? Number(value) : null;
  };
  state.steps = whole("steps") || null;
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
  for (const text of texts()) query.append("s", text);
  if (state.steps !== null) query.set("steps", String(state.steps));
  if (state.log) query.set("log", "1");
  if (state.start !== null) { query.set("from", String(state.start)); query.set("to", String(state.stop)); }
  if (state.selected) query.set("sel", String(state.selected));
  if (state.tab !== "check") query.set("tab", state.tab);
  history.replaceState(null, "", `${location.pathname}?${query}`);
}

// -- talking to the server ------------------------------------------------------------------

const inFlight = {};  // path -> AbortController of the request whose answer is still wanted

// POST JSON; the answer's JSON, or an Error with the server's message and the HTTP status.
async function post(path, body) {
  if (inFlight[path]) inFlight[path].abort();  // a newer question replaces it
  const controller = new AbortController();
  inFlight[path] = controller;
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    signal: controller.signal,
  });
  const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
  const payload = json ? await response.json() : {};
  if (!response.ok) {
    const error = new Error(payload.error || `${response.status} ${response.statusText}`);
    throw Object.assign(error, { status: response.status });
  }
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
    specs: texts(), steps: state.steps, start: state.start, stop: state.stop,
    points: Math.max(200, Math.min(4000, Math.round(width * 2))),
  };
  setStatus("loading", "computing…");
  try {
    const answer = await post("/api/curve", body);
    if (mine !== sequence) return;
    curve = answer;
    checks = null;
    render();
    updateForecast();
    setStatus("drawn", `${answer.x.length} points, checking…`);
  } catch (error) {
    if (mine !== sequence || error.name === "AbortError") return;
    setStatus("error", error.message);
    return;
  }
  try {
    const answer = await post("/api/check", { specs: texts(), steps: state.steps });
    if (mine !== sequence) return;
    checks = answer;
    renderEditors();
    renderPanel();
    setStatus("ready", `${curve.x.length} points`);  // everything on the page is up to date
  } catch (error) {
    if (mine === sequence && error.name !== "AbortError") setStatus("error", `check: ${error.message}`);
  }
}

// -- editors, and undoing what the form replaced --------------------------------------------

function buildEditors() {
  const box = $("#schedules");
  box.replaceChildren();
  state.specs.forEach((spec, index) => {
    const editor = element("div", { class: "editor", "data-index": String(index) });
    editor.style.setProperty("--color", color(index));
    const bar = element("div", { class: "bar" });
    bar.append(element("span", {}, `schedule ${index + 1}`));
    if (state.specs.length > 1) {
      const remove = element("button", { class: "remove", type: "button", title: "remove this schedule" }, "×");
      remove.addEventListener("click", (event) => {
        event.stopPropagation();
        state.specs.splice(index, 1);
        state.selected = Math.min(state.selected, state.specs.length - 1);
        buildEditors();
        syncForm();
        schedule();
      });
      bar.append(remove);
    }
    const area = element("textarea", { class: "spec", spellcheck: "false", "aria-label": `schedule ${index + 1}` });
    area.value = spec.text;
    area.addEventListener("input", () => {
      spec.text = area.value;
      if (index === state.selected) syncForm();
      schedule();
    });
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
  syncForm();
}

// Replace the text of schedule ``index`` (from the form, or by undoing).
function setText(index, text) {
  state.specs[index].text = text;
  const area = document.querySelector(`.editor[data-index="${index}"] textarea`);
  if (area) area.value = text;
  $("#undo").disabled = state.specs[state.selected].undo.length === 0;
  schedule();
}

function undo() {
  const spec = state.specs[state.selected];
  if (spec.undo.length === 0) return;
  setText(state.selected, spec.undo.pop());
  syncForm();
}

// Ctrl+Z (Cmd+Z) undoes the form's replacements, except in a text field, which has its own undo.
function undoKey(event) {
  if (event.key.toLowerCase() !== "z" || !(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey) return;
  if (event.target.closest("textarea, input[type=text], input[type=number], [contenteditable]")) return;
  event.preventDefault();
  undo();
}

function renderEditors() {
  document.querySelectorAll(".editor").forEach((editor, index) => {
    editor.classList.toggle("selected", index === state.selected);
    const series = curve && curve.series[index];
    const error = editor.querySelector(".error");
    if (series && !series.ok) {
      error.replaceChildren(document.createTextNode(series.error.message));
      const where = pointAt(state.specs[index].text, series.error.line, series.error.column);
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

// -- numbers --------------------------------------------------------------------------------

// 1e-3, 2.5e-4, 9.04508e-2: the one notation of log axes, their ticks and their readouts.
function sci(v, digits) {
  return v.toExponential(digits).replace(/\.?0+e/, "e").replace("e+", "e");
}

// A learning rate in the readouts and the check's summary: as the value axis writes numbers.
function formatValue(v) {
  if (v === null || v === undefined) return "—";
  if (v === 0) return "0";
  return state.log ? sci(v, 5) : String(Number(v.toPrecision(6)));
}

const formatLoss = (v) => (v === null || v === undefined ? "—" : String(Number(v.toPrecision(5))));

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const k of [1, 2, 5, 10]) if (k * power >= raw) return k * power;
  return 10 * power;
}

// Ticks of a log axis from low to high: powers of ten (every few when there are many), else 1, 2,
// 5 or 1…9 times them, else (a zoomed view within a decade) evenly spaced ones; at least 4.
function logTicks(low, high) {
  const first = Math.floor(Math.log10(low)), last = Math.ceil(Math.log10(high));
  for (const mantissas of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks = [];
    for (let e = first; e <= last; e++) {
      for (const m of mantissas) {
        const v = Number(`${m}e${e}`);
        if (v >= low && v <= high) ticks.push(v);
      }
    }
    const every = Math.ceil(ticks.length / 10);
    if (ticks.length >= 4) return ticks.filter((_, i) => i % every === 0);
  }
  const step = niceStep(high - low, 10);
  const ticks = [];
  for (let k = Math.ceil(low / step); k * step <= high; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

// The tick labels of a log axis: all with the fewest digits that tell every tick apart.
function logLabels(ticks) {
  for (let digits = 0; ; digits++) {
    const labels = ticks.map((v) => v.toExponential(digits).replace("e+", "e"));
    if (new Set(labels).size === labels.length || digits === 6) return labels;
  }
}

// Value ranges with headroom, so that no curve touches the frame; ``fromZero``: 0 included.
function linearRange(low, high, fromZero) {
  if (low === null || !Number.isFinite(low)) return [0, 1];
  if (fromZero) low = Math.min(0, low);
  const pad = (high - low || Math.abs(high) || 1) * 0.08;
  return [low < 0 || !fromZero ? low - pad : low, high + pad];
}

function logRange(low, high) {
  if (low === null || !Number.isFinite(low)) return [1e-3, 1];
  const a = Math.log10(low), b = Math.log10(high), pad = ((b - a) || 1) * 0.08;
  return [10 ** (a - pad), 10 ** (b + pad)];
}

// -- the charts -----------------------------------------------------------------------------

// A schedule's name in a legend: its spec, shortened, the whole spec in the tooltip.
function legendLabel(text, suffix = "") {
  const flat = text.replace(/\s+/g, " ").trim();
  const short = flat.length > LEGEND_CHARS ? `${flat.slice(0, LEGEND_CHARS - 1)}…` : flat;
  return element("span", { title: flat }, short + suffix);
}

// What both charts share: steps across (the window the server evaluated), drag to zoom in,
// double-click to zoom out, one cursor (a move over one chart moves the other's), and a legend
// that reads out the values under it. ``lines``: per curve, the schedule's index, its legend
// label, its values (aligned with the chart's steps) and how to write one.
function chartOptions(box, height, yAxis, yScale, lines) {
  return {
    width: box.clientWidth, height,
    scales: { x: { time: false, range: () => [curve.start, Math.max(curve.stop, curve.start + 1)] }, y: yScale },
    axes: [{ label: "step", incrs: STEP_INCRS }, { size: 72, ...yAxis }],
    series: [
      { label: "step", value: (u, step) => (step == null ? "--" : String(step)) },
      ...lines.map((line) => ({
        label: line.label, stroke: color(line.index), width: 1.8,
        value: (u, v, sidx, idx) => (idx == null ? "--" : line.format(line.values[idx])),
      })),
    ],
    cursor: {
      drag: { x: true, y: false, setScale: false, dist: 6 },
      sync: { key: "lrdecay", scales: ["x", null], filters: { pub: (type) => type === "mousemove" } },
    },
    legend: { markers: { fill: (u, i) => color(lines[i - 1].index) } },
    hooks: {
      ready: [(u) => u.over.addEventListener("dblclick", zoomOut)],
      setSelect: [zoomTo],
      setLegend: [(u) => markReadout(u, lines)],
    },
  };
}

// The readout as data too: the step under the cursor and each schedule's exact value there.
function markReadout(u, lines) {
  const idx = u.cursor.idx;
  u.root.dataset.step = idx == null ? "" : String(u.data[0][idx]);
  u.root.querySelectorAll(".u-legend .u-series").forEach((row, k) => {
    if (k === 0) return;
    const v = idx == null ? null : lines[k - 1].values[idx];
    row.dataset.series = String(lines[k - 1].index);
    row.dataset.value = v == null ? "" : String(v);
  });
}

// The tick labels of a linear axis: as many decimals as the distance between ticks has.
const LINEAR_AXIS = {
  values: (u, ticks, axis, space, incr) => {
    let digits = 0;
    while (digits < 20 && Math.abs(incr * 10 ** digits - Math.round(incr * 10 ** digits)) > 1e-6) digits++;
    return ticks.map((v) => v.toFixed(digits));
  },
};

function drawCurves() {
  if (charts.lr) charts.lr.destroy();
  charts.lr = null;
  const drawn = curve ? curve.series.map((s, i) => ({ s, i })).filter(({ s }) => s.ok) : [];
  const drawable = (v) => v !== null && (!state.log || v > 0);
  const empty = $("#chart-empty");
  empty.hidden = !curve || drawn.some(({ s }) => s.y.some(drawable));
  empty.textContent = state.log ? "nothing positive to draw on a log axis" : "nothing to draw";
  if (!curve || !empty.hidden) return;
  const lines = drawn.map(({ s, i }) => ({
    index: i, label: legendLabel(state.specs[i].text), values: s.y, format: formatValue,
  }));
  const yAxis = state.log ? {
    label: "learning rate (log scale)",
    splits: (u, axis, low, high) => logTicks(low, high),
    values: (u, ticks) => logLabels(ticks),
    filter: (u, ticks) => ticks,  // every tick labelled (uPlot's own filter thins log labels)
  } : { label: "learning rate", ...LINEAR_AXIS };
  const yScale = state.log
    ? { distr: 3, log: 10, range: (u, low, high) => logRange(low, high) }
    : { range: (u, low, high) => linearRange(low, high, state.start === null) };  // zoomed: fit the values
  const box = $("#chart");
  const data = [curve.x, ...lines.map((line) => line.values.map((v) => (drawable(v) ? v : null)))];
  charts.lr = new uPlot(chartOptions(box, 360, yAxis, yScale, lines), data, box);
}

// Drag across either chart: the server evaluates the steps of that range again (no interpolation).
function zoomTo(u) {
  const { left, width } = u.select;
  if (width === 0) return;
  u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  let a = Math.max(0, Math.floor(u.posToVal(left, "x")));
  let b = Math.min(MAX_STEP, Math.ceil(u.posToVal(left + width, "x")));
  if (b - a < 3) b = a + 3;  // at least four whole steps, so at least four ticks
  state.start = a;
  state.stop = b;
  schedule();
}

function zoomOut() {
  if (state.start === null) return;
  state.start = state.stop = null;
  schedule();
}

// -- the predicted loss of a fitted loss law (POST /api/forecast) ----------------------------

async function loadLaw() {
  const file = $("#law-file").files[0];
  if (!file) return;
  const law = await file.text().then(JSON.parse).catch(() => null);
  if (!law || typeof law !== "object" || Array.isArray(law) || typeof law.law !== "string") {
    setStatus("error", `${file.name} is not a fitted loss law (JSON such as {"law": "multi_power", "params": {…}})`);
    return;
  }
  state.law = law;
  $("#law-name").textContent = `${law.law}, from ${file.name}`;
  updateForecast();
}

// Ask for the predicted loss of every schedule, unless the law, the specs and the training
// steps are those of the last answer; then draw the loss chart.
async function updateForecast() {
  if (!state.law || !curve) return;
  const body = { law: state.law, specs: texts(), steps: curve.steps };
  const key = JSON.stringify(body);
  if (forecast && forecast.key === key && !forecast.pending) { drawLoss(); return; }
  forecast = { key, pending: true, message: "predicting the loss…" };
  drawLoss();
  try {
    const answer = await post("/api/forecast", body);
    if (forecast.key === key) forecast = { key, curves: answer.curves };
  } catch (error) {
    if (error.name === "AbortError" || forecast.key !== key) return;
    forecast = {
      key,
      message: error.status === 404
        ? "This lrdecay server cannot predict the loss yet (it has no /api/forecast)."
        : `predicted loss: ${error.message}`,
    };
  }
  drawLoss();
}

function drawLoss() {
  if (charts.loss) charts.loss.destroy();
  charts.loss = null;
  const section = $("#loss");
  section.hidden = !state.law;
  if (!forecast) return;
  const curves = forecast.curves || [];
  const drawn = curves.map((c, i) => ({ c, i })).filter(({ c, i }) => !c.error && state.specs[i]);
  const errors = curves.map((c, i) => (c.error ? `schedule ${i + 1}: ${c.error}` : null)).filter(Boolean);
  $("#loss-message").textContent = forecast.message || errors.join("\n");
  section.dataset.state = forecast.pending ? "loading" : forecast.curves ? "drawn" : "error";
  if (drawn.length === 0 || !curve) return;
  const data = uPlot.join(drawn.map(({ c }) => [c.steps, c.loss]));
  const lines = drawn.map(({ c, i }, k) => ({
    index: i, label: legendLabel(state.specs[i].text, ` — final ${formatLoss(c.final)}`),
    values: data[k + 1], format: formatLoss,
  }));
  const yAxis = { label: "predicted loss", ...LINEAR_AXIS };
  const yScale = { range: (u, low, high) => linearRange(low, high, false) };
  const box = $("#loss-chart");
  charts.loss = new uPlot(chartOptions(box, 240, yAxis, yScale, lines), data, box);
}

// -- the panel: check, the spec written out, code -------------------------------------------

function render() {
  renderEditors();
  drawCurves();
  renderPanel();
  $("#reset-zoom").disabled = state.start === null;
  $("#window").textContent = curve ? `steps ${curve.start} … ${curve.stop} of ${curve.steps}` : "";
}

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

// -- the form of a kind's parameters: it shows the selected schedule and writes into it ------

function pythonString(text) {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function unquote(literal) {
  const match = (literal || "").match(/^'(.*)'$|^"(.*)"$/s);
  return match ? (match[1] ?? match[2]).replace(/\\(.)/gs, "$1") : (literal || "");
}

// The arguments of a call, split at its top-level commas; null when the brackets or quotes
// do not match or an argument is empty.
function splitArgs(body) {
  const args = [];
  let depth = 0, quote = null, from = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c) && --depth < 0) return null;
    else if (c === "," && depth === 0) { args.push(body.slice(from, i).trim()); from = i + 1; }
  }
  const last = body.slice(from).trim();
  if (last) args.push(last);  // an empty last one is a trailing comma
  return quote || depth || args.includes("") ? null : args;
}

// A spec written as a call of a kind: the kind and each parameter's text (positional arguments
// fill the parameters in order); null for anything else (JSON, YAML, a method, a typo).
function parseCall(text) {
  const call = text.trim().match(/^([A-Za-z_]\w*)\s*\(([\s\S]*)\)$/);
  const kind = call && kinds.find((k) => k.kind === call[1]);
  const args = kind && splitArgs(call[2]);
  if (!args) return null;
  const values = {};
  let named = false;
  for (const [index, arg] of args.entries()) {
    const keyword = arg.match(/^([A-Za-z_]\w*)\s*=(?!=)\s*([\s\S]+)$/);
    named = named || keyword !== null;
    const field = keyword ? kind.fields.find((f) => f.name === keyword[1]) : !named && kind.fields[index];
    if (!field || field.name in values) return null;
    values[field.name] = keyword ? keyword[2].trim() : arg;
  }
  return { kind, values };
}

function sliderRange(value, integer) {
  const v = Number(value);
  if (!Number.isFinite(v) || v === 0) return integer ? [0, 100, 1] : [0, 1, 0.001];
  const top = niceStep(Math.abs(v) * 3, 1);
  const high = integer ? Math.max(10, Math.ceil(top)) : top;
  return [v < 0 ? -high : 0, high, integer ? 1 : high / 1000];
}

let form = null;         // {kind, inputs: [{field, read}]} of the form shown
let formEditing = false; // a control is being changed (a slider dragged, a box typed in)

// Show the form of ``kind`` holding ``values`` (parameter name -> spec text; a parameter left
// out shows its default).
function showKind(kind, values) {
  const fields = $("#fields");
  fields.replaceChildren();
  $("#kind").value = kind ? kind.kind : "";
  $("#kind-summary").textContent = kind ? `${kind.summary}${kind.matches ? ` — matches ${kind.matches}` : ""}` : "";
  form = kind && { kind, inputs: [] };
  if (!kind) return;
  for (const field of kind.fields) {
    const value = values[field.name] ?? field.default ?? "";
    const row = element("div", { class: "field" });
    const id = `field-${field.name}`;
    row.append(element("label", { for: id, title: field.name }, field.name));
    let read;
    const numeric = value === "None" || Number.isFinite(Number(value));
    if ((field.input === "number" || field.input === "integer") && numeric) {
      const integer = field.input === "integer";
      const [low, high, step] = sliderRange(value, integer);
      const slider = element("input", { type: "range", min: low, max: high, step, "aria-label": `${field.name} slider` });
      const number = element("input", { type: "number", id, step: integer ? 1 : "any", placeholder: field.optional ? "None" : "" });
      number.value = value === "None" ? "" : value;
      slider.value = number.value === "" ? low : number.value;
      slider.addEventListener("input", () => { number.value = slider.value; });
      number.addEventListener("input", () => { if (number.value !== "") slider.value = number.value; });
      row.append(slider, number);
      read = () => (number.value === "" ? (field.optional ? "None" : "") : number.value);
    } else if (field.input === "bool") {
      const box = element("input", { type: "checkbox", id });
      box.checked = value === "True";
      row.append(box);
      read = () => (box.checked ? "True" : "False");
    } else {
      const quoted = field.input === "text";
      const text = element("input", { type: "text", id, spellcheck: "false" });
      text.value = quoted ? unquote(value) : value;
      row.append(text);
      read = () => (quoted ? pythonString(text.value) : text.value.trim());
    }
    row.addEventListener("input", () => writeForm());
    row.addEventListener("change", () => { formEditing = false; });
    form.inputs.push({ field, read });
    fields.append(row);
  }
}

// The form follows the selected schedule: its kind and values when its text is a kind's call.
function syncForm() {
  formEditing = false;
  const call = parseCall(state.specs[state.selected].text);
  showKind(call && call.kind, call ? call.values : {});
  $("#undo").disabled = state.specs[state.selected].undo.length === 0;
}

function chooseKind(name) {
  const kind = kinds.find((k) => k.kind === name);
  if (!kind) { syncForm(); return; }
  showKind(kind, Object.fromEntries(kind.fields.map((f) => [f.name, f.value])));
  formEditing = false;
  writeForm(false);  // choosing a kind is one step of undo
}

// Write the form's spec into the selected schedule; the text it replaces can be restored with
// Undo: one step per change of a control (``editing``: it goes on), not per move of a slider.
function writeForm(editing = true) {
  const parts = [];
  for (const { field, read } of form.inputs) {
    const value = read();
    if (field.default !== null && value === field.default) continue;
    parts.push(`${field.name}=${value}`);
  }
  const text = `${form.kind.kind}(${parts.join(", ")})`;
  const spec = state.specs[state.selected];
  if (text === spec.text) return;
  if (!formEditing) spec.undo.push(spec.text);
  formEditing = editing;
  setText(state.selected, text);
}

async function loadKinds() {
  try {
    const response = await fetch("/api/kinds");
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    kinds = (await response.json()).kinds;
  } catch (error) {
    setStatus("error", `kinds: ${error.message}`);
    return;
  }
  const choice = $("#kind");
  for (const kind of kinds) choice.append(element("option", { value: kind.kind }, kind.kind));
  choice.addEventListener("change", () => chooseKind(choice.value));
  syncForm();
}

// -- start ----------------------------------------------------------------------------------

function start() {
  readUrl();
  $("#steps").value = state.steps === null ? "" : String(state.steps);
  $("#log").checked = state.log;
  $("#steps").addEventListener("input", () => {
    const text = $("#steps").value.trim();
    state.steps = /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_STEP ? Number(text) : null;
    state.start = state.stop = null;
    schedule();
  });
  $("#log").addEventListener("change", () => {
    state.log = $("#log").checked;
    writeUrl();
    drawCurves();
    renderPanel();
  });
  $("#reset-zoom").addEventListener("click", zoomOut);
  $("#add").addEventListener("click", () => {
    if (state.specs.length >= MAX_SPECS) return;
    state.specs.push({ text: state.specs[state.selected].text, undo: [] });
    state.selected = state.specs.length - 1;
    buildEditors();
    syncForm();
    schedule();
  });
  $("#undo").addEventListener("click", undo);
  document.addEventListener("keydown", undoKey);
  $("#law-file").addEventListener("change", loadLaw);
  document.querySelectorAll("#tabs button").forEach((button) => button.addEventListener("click", () => {
    state.tab = button.dataset.tab;
    writeUrl();
    renderPanel();
  }));
  $("#share").addEventListener("click", () => copyText(location.href, $("#share")));
  window.addEventListener("resize", () => { drawCurves(); drawLoss(); });
  buildEditors();
  loadKinds();
  refresh();
}

document.addEventListener("DOMContentLoaded", start);
