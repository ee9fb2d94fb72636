/* memograd play: draws what the Python engine computes. No math is re-implemented here: every
   number comes from the JSON API (POST /api/<route>) or, in the static page, from the answers
   stored in window.MEMOGRAD_STATIC by `memograd play --static`. */
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const PALETTE = ["#d53f8c", "#38a169", "#3182ce", "#d69e2e", "#805ad5", "#e53e3e", "#319795", "#718096"];
const STATIC = window.MEMOGRAD_STATIC || null;
const S = {
  req: { net: [2, 2, 2, 1], activation: "sigmoid", seed: 0 },
  net: null, selected: "w11^1", explain: null, trace: null, step: -1,
  tracePlaying: null, training: false, trainSteps: 0, losses: [], fibTimer: null,
};
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------------------------- API
function canonical(v) {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v && typeof v === "object") {
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}

async function api(route, body) {
  if (STATIC) {
    const key = route + " " + canonical(body);
    if (key in STATIC.answers) return STATIC.answers[key];
    throw new Error("this static page holds precomputed states only; run `memograd play` to explore freely");
  }
  const r = await fetch("api/" + route, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await r.json();
  if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
  return data;
}

function status(text, isError) {
  const el = $("status");
  if (!text && STATIC) text = "static page: the preset network, its paths and memo table, and recorded training runs; `memograd play` explores freely.";
  el.textContent = text || "";
  el.className = isError ? "error" : "";
}

// ------------------------------------------------------------------------------ notation
const SUB = { 0: "₀", 1: "₁", 2: "₂", 3: "₃", 4: "₄", 5: "₅", 6: "₆", 7: "₇", 8: "₈", 9: "₉", ",": "," };
const SUP = { 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
const sub = (s) => [...s].map((c) => SUB[c] || c).join("");
const sup = (s) => [...s].map((c) => SUP[c] || c).join("");
function pretty(name) {
  if (name === "yhat") return "ŷ";
  const m = /^([A-Za-z]+)([0-9,]+)(?:\^([0-9]+))?$/.exec(name || "");
  if (!m) return name;
  return m[1] + sub(m[2]) + (m[3] ? sup(m[3]) : "");
}
function fmt(x) {
  if (typeof x !== "number") return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(3) : x.toPrecision(4).replace(/\.?0+$/, "");
}
const int = (n) => Number(n).toLocaleString("en-US");
function el(tag, attrs, parent, ns) {
  const e = ns ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  if (parent) parent.appendChild(e);
  return e;
}
const svgEl = (tag, attrs, parent) => el(tag, attrs, parent, true);

// ------------------------------------------------------------------------- 1. the network
const GEOM = { colW: 170, top: 40, rowH: 110, r: 19 };

function layout(net) {
  const maxRows = Math.max(...net.layers.map((l) => l.length));
  const rowH = Math.max(26, Math.min(GEOM.rowH, 600 / maxRows));
  const height = GEOM.top * 2 + rowH * (maxRows - 1) + 20;
  const pos = {};
  net.layers.forEach((layer, k) => {
    const off = (maxRows - layer.length) * rowH / 2;
    layer.forEach((n, j) => { pos[n.name] = { x: 60 + k * GEOM.colW, y: GEOM.top + off + j * rowH }; });
  });
  pos.L = { x: 60 + net.layers.length * GEOM.colW - 40, y: pos[net.layers[net.layers.length - 1][0].name].y };
  return { pos, width: 60 + net.layers.length * GEOM.colW + 10, height, rowH };
}

function drawNetwork() {
  const net = S.net, host = $("network");
  host.textContent = "";
  const { pos, width, height, rowH } = layout(net);
  S.pos = pos;
  const r = Math.min(GEOM.r, rowH / 2 - 3);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "the network" }, host);
  const maxW = Math.max(1e-9, ...net.edges.map((e) => Math.abs(e.data)));
  const dense = net.edges.length > 40;
  const gEdges = svgEl("g", {}, svg);
  S.hl = svgEl("g", {}, svg);
  for (const e of net.edges) {
    const a = pos[e.from], b = pos[e.to];
    const g = svgEl("g", {
      class: "net-edge", "data-name": e.name, "data-from": e.from, "data-to": e.to, "data-value": e.data,
      "data-grad": e.grad, tabindex: 0, role: "button", "aria-label": `weight ${e.name} = ${fmt(e.data)}, gradient ${fmt(e.grad)}`,
    }, gEdges);
    const [x1, y1, x2, y2] = [a.x + r, a.y, b.x - r, b.y];
    const len = Math.hypot(x2 - x1, y2 - y1) || 1, nx = -(y2 - y1) / len * 5, ny = (x2 - x1) / len * 5;
    svgEl("polygon", {  // the click target: a 10 px band around the edge
      points: `${x1 + nx},${y1 + ny} ${x2 + nx},${y2 + ny} ${x2 - nx},${y2 - ny} ${x1 - nx},${y1 - ny}`, fill: "transparent",
    }, g);
    svgEl("line", {
      x1, y1, x2, y2, stroke: e.data >= 0 ? "var(--pos)" : "var(--neg)", "stroke-width": (0.6 + 5 * Math.abs(e.data) / maxW).toFixed(2),
      "stroke-opacity": dense ? 0.55 : 0.8, "pointer-events": "none",
    }, g);
    svgEl("title", { text: `${pretty(e.name)} = ${fmt(e.data)}\n∂L/∂${pretty(e.name)} = ${fmt(e.grad)}` }, g);
    if (!dense) {
      const t = 0.3 + 0.4 * ((net.edges.indexOf(e) % 3) / 2);
      svgEl("text", { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t - 4, "text-anchor": "middle", "font-size": 12, "pointer-events": "none", text: pretty(e.name) }, gEdges);
    }
  }
  for (const b of net.biases) {
    const p = pos[b.neuron];
    const sq = svgEl("rect", {
      x: p.x - r - 12, y: p.y + r - 6, width: 9, height: 9, class: "bias", "data-name": b.name,
      "data-value": b.data, "data-grad": b.grad, fill: b.data >= 0 ? "var(--pos)" : "var(--neg)", tabindex: 0, role: "button",
      "aria-label": `bias ${b.name} = ${fmt(b.data)}, gradient ${fmt(b.grad)}`,
    }, svg);
    svgEl("title", { text: `${pretty(b.name)} = ${fmt(b.data)}\n∂L/∂${pretty(b.name)} = ${fmt(b.grad)}` }, sq);
  }
  for (const layer of net.layers) {
    for (const n of layer) {
      const p = pos[n.name];
      const g = svgEl("g", { class: "neuron", "data-name": n.name, tabindex: 0, role: "button",
        "aria-label": `${n.name} = ${fmt(n.data)}, gradient ${fmt(n.grad)}` }, svg);
      svgEl("circle", { cx: p.x, cy: p.y, r }, g);
      svgEl("text", { x: p.x, y: p.y + 4, "text-anchor": "middle", "font-size": r > 12 ? 13 : 11, text: pretty(n.name) }, g);
      svgEl("title", { text: `${pretty(n.name)} = ${fmt(n.data)}\n∂L/∂${pretty(n.name)} = ${fmt(n.grad)}` }, g);
    }
  }
  const L = pos.L;
  svgEl("text", { x: L.x, y: L.y + 4, "text-anchor": "middle", "font-weight": 700, text: "L" }, svg);
  svgEl("line", { x1: L.x - 40 + GEOM.r, y1: L.y, x2: L.x - 10, y2: L.y, stroke: "#2d3748" }, svg);
  $("network-caption").textContent = `${net.net.join("-")} network, ${net.activation}: ŷ = ${fmt(net.yhat)}, y = ${fmt(net.target)}, ` +
    `L = (ŷ − y)² = ${fmt(net.L)}; ${net.cost.parameters} parameters` + (dense ? "; weight labels hidden at this density (hover an edge)" : "");
  svg.addEventListener("click", (ev) => {
    const t = ev.target.closest("[data-name]");
    if (t) select(t.getAttribute("data-name"));
  });
  svg.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      const t = ev.target.closest("[data-name]");
      if (t) { ev.preventDefault(); ev.stopPropagation(); select(t.getAttribute("data-name")); }
    }
  });
  markSelected();
}

function markSelected() {
  document.querySelectorAll("#network .selected").forEach((e) => e.classList.remove("selected"));
  document.querySelectorAll(`#network [data-name="${CSS.escape(S.selected)}"]`).forEach((e) => e.classList.add("selected"));
}

function anchor(name, r) {
  const p = S.pos[name];
  if (p) return p;
  const e = S.net.edges.find((x) => x.name === name);
  if (e) { const a = S.pos[e.from], b = S.pos[e.to]; return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }; }
  const b = S.net.biases.find((x) => x.name === name);
  if (b) { const p2 = S.pos[b.neuron]; return { x: p2.x - r - 8, y: p2.y + r - 2 }; }
  return null;
}

function drawPaths() {
  const g = S.hl;
  g.textContent = "";
  document.querySelectorAll("#network .on-path").forEach((e) => e.classList.remove("on-path"));
  const paths = S.explain.paths;
  paths.forEach((p, i) => {
    const off = (i - (paths.length - 1) / 2) * 3.5;
    const pts = [];
    for (const name of p.nodes) {
      const a = anchor(name, GEOM.r);
      if (a) pts.push(`${a.x.toFixed(1)},${(a.y + off).toFixed(1)}`);
    }
    for (let k = 1; k < p.nodes.length; k++) {  // the weight edges this path runs along
      const child = p.nodes[k - 1], parent = p.nodes[k];
      document.querySelectorAll(`#network .net-edge[data-from="${CSS.escape(parent)}"][data-to="${CSS.escape(child === "L" ? "" : child)}"], #network .net-edge[data-name="${CSS.escape(parent)}"]`)
        .forEach((e) => e.classList.add("on-path"));
    }
    svgEl("polyline", { points: pts.join(" "), class: "path-hl", "data-path": i + 1, stroke: PALETTE[i % PALETTE.length], "stroke-width": 4 }, g);
  });
}

// ------------------------------------------------------------------------ 2. the paths
async function select(name) {
  const t0 = performance.now();
  S.selected = name;
  markSelected();
  try {
    S.explain = await api("explain", { ...S.req, wrt: name });
  } catch (e) { status(e.message, true); return; }
  status("");
  drawPaths();
  renderExplain();
  fillEdit();
  window.memogradSelectMs = performance.now() - t0;  // click to paths drawn (benchmarks read it)
}

function renderExplain() {
  const ex = S.explain, host = $("explain");
  $("explain-target").textContent = pretty(ex.wrt);
  host.textContent = "";
  el("p", { text: `∂L/∂${pretty(ex.wrt)}: ${ex.count} chain-rule path${ex.count === 1 ? "" : "s"} from L.` }, host);
  const hits = new Set(ex.reused.map((r) => r.name));
  ex.paths.slice(0, 12).forEach((p, i) => {
    const div = el("div", { class: "path", "data-path": i + 1, "data-product": p.product }, host);
    const head = el("div", {}, div);
    el("span", { class: "swatch", style: `background:${PALETTE[i % PALETTE.length]}` }, head);
    el("b", { text: `path ${i + 1}: ` }, head);
    el("span", { text: p.nodes.map(pretty).join(" → ") }, head);
    const t = el("table", {}, div);
    const hr = el("tr", {}, el("thead", {}, t));
    ["local derivative", "formula", "value"].forEach((h) => el("th", { text: h }, hr));
    const tb = el("tbody", {}, t);
    p.factors.forEach((f, k) => {
      const tr = el("tr", {}, tb);
      const prefix = "∂L/∂" + prettyName(p.nodes[k + 1]);
      el("td", { class: "formula", text: prettyFactor(f) + (k > 0 && hits.has(prefixName(p.nodes[k])) ? "" : "") }, tr);
      el("td", { class: "formula", text: prettyText(p.formulas[k]) }, tr);
      el("td", { class: "num", text: fmt(p.values[k]), title: prefix }, tr);
    });
    el("p", { text: `product = ${fmt(p.product)}` }, div);
  });
  if (ex.paths.length > 12) el("p", { text: `… and ${ex.paths.length - 12} more paths (all summed below).` }, host);
  const sum = el("p", { id: "path-sum", "data-value": ex.path_sum }, host);
  el("b", { text: "path sum = " }, sum); sum.append(fmt(ex.path_sum));
  const bp = el("p", { id: "backprop", "data-value": ex.backprop }, host);
  el("b", { text: "backprop (memo table) = " }, bp); bp.append(`${fmt(ex.backprop)}   (difference ${fmt(ex.difference)})`);
  const fac = el("p", { class: "formula" }, host);
  el("b", { text: "factored: " }, fac); fac.append(prettyText(ex.factored));
  el("p", { class: "formula", text: "= " + ex.factored_values }, host);
  if (ex.reused.length) {
    el("h3", { text: "memo hits: computed once, reused (the notes' “need not be calculated again”)" }, host);
    const ul = el("ul", { id: "memo-hits" }, host);
    for (const r of ex.reused) {
      const li = el("li", {}, ul);
      el("span", { class: "memo-hit formula", text: prettyText(r.name) }, li);
      li.append(` = ${fmt(r.value)}: read ${r.reads}×` + (r.users.length ? `; already used for ${r.users.slice(0, 8).map(pretty).join(", ")}${r.users.length > 8 ? ", …" : ""}` : ""));
    }
  }
  if (ex.cost) {
    el("p", { class: "hint", text: `All ${ex.cost.parameters} parameters: path by path ${int(ex.cost.naive)} operations, backprop ${int(ex.cost.backprop)} (${ex.cost.ratio.toFixed(1)}× fewer).` }, host);
  }
}
const prettyName = (n) => pretty(n);
const prefixName = (n) => "∂L/∂" + pretty(n);
function prettyText(s) { return String(s).replace(/\b([wboxz][0-9,]+(?:\^[0-9]+)?|yhat)(?![0-9,^])/g, (m) => pretty(m)); }
function prettyFactor(f) { return prettyText(f); }

// ------------------------------------------------------------- 3. backward, step by step
async function loadTrace() {
  S.trace = await api("trace", S.req);
  S.step = -1;
  renderTrace();
}

function traceName(id) { const n = S.trace.nodes[id]; return n.name ? pretty(n.name) : n.label; }

function renderTrace() {
  const T = S.trace, log = $("trace-log"), body = $("memo-table").querySelector("tbody");
  log.textContent = ""; body.textContent = "";
  const upto = S.step;
  const table = new Map();
  let current = null;
  for (let k = 0; k <= upto && k < T.steps.length; k++) {
    const s = T.steps[k];
    table.delete(s.node);
    const li = (kind, text, attrs) => el("li", { "data-kind": kind, ...attrs, text }, log);
    li("store", `step ${k + 1}: ∂L/∂${traceName(s.node)} = ${fmt(s.adjoint)} complete → stored`, { "data-node": s.node, "data-value": s.adjoint });
    for (const p of s.pushes) {
      table.set(p.parent, (table.get(p.parent) || 0) + p.contribution);
      li("push", `   push to ${traceName(p.parent)}: ${p.adds ? "add" : "new entry"} ${fmt(p.contribution)}`, { "data-node": s.node, "data-parent": p.parent, "data-value": p.contribution });
    }
    li("evict", `   evict ${traceName(s.node)} (read once, never needed again)`, { "data-node": s.node });
    current = s;
  }
  if (log.lastChild) { log.lastChild.classList.add("now"); log.scrollTop = log.scrollHeight; }  // the log only, not the page
  for (const [id, v] of table) {
    const tr = el("tr", { "data-node": id }, body);
    el("td", { text: "∂L/∂" + traceName(id) }, tr);
    el("td", { class: "num", text: fmt(v) }, tr);
  }
  const done = current ? current : { multiplications: 0, additions: 0 };
  const ops = done.multiplications + done.additions;
  $("trace-counter").textContent = `step ${Math.max(0, upto + 1)} of ${T.steps.length} · backprop so far: ${done.multiplications} × and ${done.additions} + = ${ops} operations · ` +
    `path by path, all ${T.cost.parameters} parameters: ${int(T.cost.naive)} operations · table now ${table.size} entr${table.size === 1 ? "y" : "ies"}`;
  $("trace-counter").setAttribute("data-ops", ops);
  document.querySelectorAll("#network .neuron.current").forEach((e) => e.classList.remove("current"));
  if (current) {
    const n = T.nodes[current.node];
    if (n.name) document.querySelectorAll(`#network .neuron[data-name="${CSS.escape(n.name)}"]`).forEach((e) => e.classList.add("current"));
  }
}

function traceGo(k) {
  if (!S.trace) return;
  S.step = Math.max(-1, Math.min(S.trace.steps.length - 1, k));
  renderTrace();
}
function tracePlay() {
  const btn = $("trace-play");
  if (S.tracePlaying) { clearInterval(S.tracePlaying); S.tracePlaying = null; btn.textContent = "▶ play"; return; }
  if (S.step >= S.trace.steps.length - 1) S.step = -1;
  btn.textContent = "⏸ pause";
  const tick = () => {
    if (S.step >= S.trace.steps.length - 1) { tracePlay(); return; }
    traceGo(S.step + 1);
  };
  S.tracePlaying = setInterval(tick, 1000 / Number($("trace-speed").value));
}

// -------------------------------------------------------------------------------- 4. edits
function fillEdit() {
  if (!S.net) return;
  const [x1, x2] = S.net.inputs;
  setPair("x1", x1); setPair("x2", x2); setPair("y", S.net.target);
  const w = S.net.weights[S.selected];
  const editable = w !== undefined;
  $("edit-w-name").textContent = editable ? pretty(S.selected) : "(select a weight)";
  $("edit-w").disabled = $("slide-w").disabled = !editable || !!STATIC;
  if (editable) setPair("w", w);
  ["x1", "x2", "y"].forEach((k) => { $("edit-" + k).disabled = $("slide-" + k).disabled = !!STATIC; });
  $("edit-readout").textContent = `ŷ = ${fmt(S.net.yhat)}, L = ${fmt(S.net.L)}, ∂L/∂${pretty(S.selected)} = ${fmt(S.explain ? S.explain.backprop : NaN)}` +
    (STATIC ? " (static page: edits need `memograd play`)" : "");
}
function setPair(k, v) { $("edit-" + k).value = +v.toFixed(4); $("slide-" + k).value = v; }

let editTimer = null;
function onEdit(k, v) {
  v = Number(v);
  if (!Number.isFinite(v)) { status(`${k} must be a number`, true); return; }
  setPair(k, v);
  if (k === "x1" || k === "x2") { const inp = [...S.net.inputs]; inp[k === "x1" ? 0 : 1] = v; S.req.inputs = inp; }
  else if (k === "y") S.req.target = v;
  else S.req.weights = { ...S.net.weights, [S.selected]: v };
  clearTimeout(editTimer);
  editTimer = setTimeout(() => refresh(false), 25);
}

// ---------------------------------------------------------------------- 5. depth and width
async function loadComplexity() {
  const depth = Number($("depth").value), width = Number($("width").value);
  $("depth-out").textContent = depth; $("width-out").textContent = width;
  let data;
  try { data = await api("complexity", { depth: 12, width }); } catch (e) { status(e.message, true); return; }
  const rows = data.rows.slice(0, depth);
  const tb = $("complexity-table").querySelector("tbody");
  tb.textContent = "";
  for (const r of rows) {
    const tr = el("tr", { "data-depth": r.depth, "data-naive": r.naive, "data-backprop": r.backprop, "data-paths": r["paths_all_parameters"] }, tb);
    [r.depth, r.net, int(r["paths_to_w11^1"]), int(r.paths_all_parameters), int(r.naive), int(r.backprop), r.ratio.toFixed(1) + "×"]
      .forEach((v, i) => el("td", { class: i > 1 ? "num" : "", text: v }, tr));
  }
  drawLogChart($("complexity-chart"), rows.map((r) => r.depth), [
    { name: "path by path", color: "var(--neg)", ys: rows.map((r) => r.naive) },
    { name: "backprop (memoized)", color: "var(--pos)", ys: rows.map((r) => r.backprop) },
  ], "hidden layers", "operations (× and +), log scale");
}

function drawLogChart(host, xs, series, xlabel, ylabel) {
  host.textContent = "";
  const W = 560, H = 260, L = 64, B = 40, T = 16, R = 150;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": ylabel }, host);
  const all = series.flatMap((s) => s.ys).filter((y) => y > 0);
  const lo = Math.floor(Math.log10(Math.min(...all))), hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...all))));
  const X = (x) => L + (xs.length > 1 ? (x - xs[0]) / (xs[xs.length - 1] - xs[0]) : 0.5) * (W - L - R);
  const Y = (y) => H - B - (Math.log10(y) - lo) / (hi - lo) * (H - B - T);
  for (let e = lo; e <= hi; e++) {
    svgEl("line", { x1: L, x2: W - R, y1: Y(10 ** e), y2: Y(10 ** e), stroke: "#e2e8f0" }, svg);
    svgEl("text", { x: L - 6, y: Y(10 ** e) + 4, "text-anchor": "end", "font-size": 12, text: "10" + sup(String(e)) }, svg);
  }
  const every = Math.max(1, Math.ceil(xs.length / 10));  // at most ~10 tick labels
  xs.forEach((x, k) => { if (k % every === 0 || k === xs.length - 1) svgEl("text", { x: X(x), y: H - B + 16, "text-anchor": "middle", "font-size": 12, text: x }, svg); });
  svgEl("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "font-size": 12, text: xlabel }, svg);
  svgEl("text", { x: 12, y: T + (H - B - T) / 2, transform: `rotate(-90 12 ${T + (H - B - T) / 2})`, "text-anchor": "middle", "font-size": 12, text: ylabel }, svg);
  series.forEach((s, i) => {
    svgEl("polyline", { points: xs.map((x, k) => `${X(x)},${Y(Math.max(s.ys[k], 10 ** lo))}`).join(" "), fill: "none", stroke: s.color, "stroke-width": 2.5 }, svg);
    svgEl("line", { x1: W - R + 6, x2: W - R + 24, y1: T + 10 + i * 18, y2: T + 10 + i * 18, stroke: s.color, "stroke-width": 3 }, svg);
    svgEl("text", { x: W - R + 28, y: T + 14 + i * 18, "font-size": 12, text: s.name }, svg);
  });
}

// ------------------------------------------------------------------------------ 6. training
async function trainLoop() {
  const btn = $("train-play");
  if (S.training) { S.training = false; btn.textContent = "▶ train"; await refresh(true); return; }
  S.training = true; btn.textContent = "⏸ pause";
  const dataset = $("dataset").value;
  if (STATIC) return staticTrain(dataset);
  while (S.training) {
    let r;
    try {
      r = await api("train", { ...S.req, weights: S.net.weights, dataset, steps: 5, lr: Number($("lr").value) });
    } catch (e) { status(e.message, true); S.training = false; btn.textContent = "▶ train"; return; }
    S.trainSteps += r.steps; S.losses.push(...r.losses);
    S.req.weights = r.weights;
    showTraining(r);
    S.net = await api("network", S.req);
    drawNetwork();
    if (S.explain) drawPaths();
  }
}

async function staticTrain(dataset) {
  const snaps = STATIC.trajectories[dataset];
  for (const r of snaps) {
    if (!S.training) return;
    S.trainSteps = r.at; S.losses = r.curve;
    showTraining(r);
    await new Promise((ok) => setTimeout(ok, 120));
  }
  S.training = false; $("train-play").textContent = "▶ train";
}

function showTraining(r) {
  $("train-counter").textContent = `step ${S.trainSteps} · loss ${fmt(r.loss)} · accuracy ${(100 * r.accuracy).toFixed(1)}%`;
  $("train-counter").setAttribute("data-steps", S.trainSteps);
  $("train-counter").setAttribute("data-loss", r.loss);
  const host = $("boundary"); host.textContent = "";
  const n = r.grid.x.length, W = 300, cell = W / n;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${W}`, role: "img", "aria-label": "decision surface" }, host);
  const [x0, x1] = [r.grid.x[0], r.grid.x[n - 1]], [y0, y1] = [r.grid.y[0], r.grid.y[n - 1]];
  const vals = r.grid.values.flat(), vmin = Math.min(...vals), vmax = Math.max(...vals);
  r.grid.values.forEach((row, i) => row.forEach((v, j) => {
    const t = (v - r.grid.threshold) / Math.max(1e-9, v >= r.grid.threshold ? vmax - r.grid.threshold : r.grid.threshold - vmin);
    const c = t >= 0 ? `rgba(43,108,176,${(0.15 + 0.5 * Math.min(1, t)).toFixed(2)})` : `rgba(221,107,32,${(0.15 + 0.5 * Math.min(1, -t)).toFixed(2)})`;
    svgEl("rect", { x: j * cell, y: W - (i + 1) * cell, width: cell + 0.6, height: cell + 0.6, fill: c, "shape-rendering": "crispEdges" }, svg);
  }));
  r.points.x.forEach((p, k) => svgEl("circle", {
    cx: (p[0] - x0) / (x1 - x0) * W, cy: W - (p[1] - y0) / (y1 - y0) * W, r: 2.6,
    fill: r.points.y[k] ? "var(--pos)" : "var(--neg)", stroke: "#fff", "stroke-width": 0.6,
  }, svg));
  const losses = S.losses.length ? S.losses : [r.loss];
  drawLogChart($("loss-chart"), losses.map((_, i) => i + 1), [{ name: "loss", color: "#2d3748", ys: losses }], "step", "loss (log scale)");
}

// ----------------------------------------------------------------------------- 7. Fibonacci
async function loadFib(animate) {
  const n = Number($("fib-n").value);
  $("fib-n-out").textContent = n;
  let data;
  try { data = await api("fib", { n }); } catch (e) { status(e.message, true); return; }
  const order = { naive: drawTree($("fib-naive"), data.trees.naive), memo: drawTree($("fib-memo"), data.trees.memo) };
  clearInterval(S.fibTimer);
  const show = (a, b) => {
    $("fib-counter").textContent = `fib(${n}) = ${data.trees.naive.value} · calls so far: naive ${a} of ${int(data.calls.naive)}, memoized ${b} of ${int(data.calls.memo)}`;
    $("fib-counter").setAttribute("data-naive", a); $("fib-counter").setAttribute("data-memo", b);
  };
  if (!animate) {
    order.naive.forEach((e) => e.classList.add("called")); order.memo.forEach((e) => e.classList.add("called"));
    show(order.naive.length, order.memo.length); return;
  }
  order.naive.concat(order.memo).forEach((e) => e.setAttribute("opacity", 0.15));
  let k = 0;
  S.fibTimer = setInterval(() => {
    k++;
    if (order.naive[k - 1]) order.naive[k - 1].setAttribute("opacity", 1);
    if (order.memo[k - 1]) order.memo[k - 1].setAttribute("opacity", 1);
    show(Math.min(k, order.naive.length), Math.min(k, order.memo.length));
    if (k >= order.naive.length) clearInterval(S.fibTimer);
  }, Math.max(15, 1500 / order.naive.length));
}

function drawTree(host, root) {
  host.textContent = "";
  let leaves = 0; const placed = []; let depth = 0;
  (function place(nd, d) {  // leaves left to right; a parent above the middle of its children
    depth = Math.max(depth, d);
    if (!nd.children) { nd._x = leaves++; } else { nd.children.forEach((c) => place(c, d + 1)); nd._x = (nd.children[0]._x + nd.children[nd.children.length - 1]._x) / 2; }
    nd._d = d;
  })(root, 0);
  const dx = 26, dy = 44, W = Math.max(120, leaves * dx + 20), H = depth * dy + 40;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "recursion tree" }, host);
  const X = (nd) => 10 + dx / 2 + nd._x * dx, Y = (nd) => 20 + nd._d * dy;
  (function walk(nd) {  // pre-order = call order
    const g = svgEl("g", { class: "call", "data-k": nd.k, "data-mark": nd.mark }, svg);
    placed.push(g);
    const fill = nd.mark === "repeat" ? "#fed7d7" : nd.mark === "hit" ? "#c6f6d5" : "#fff";
    svgEl("circle", { cx: X(nd), cy: Y(nd), r: 11, fill, stroke: "#2d3748" }, g);
    svgEl("text", { x: X(nd), y: Y(nd) + 4, "text-anchor": "middle", "font-size": 12, text: nd.k }, g);
    svgEl("title", { text: `fib(${nd.k}) = ${nd.value}` + (nd.mark === "repeat" ? " (computed again)" : nd.mark === "hit" ? " (from the dict)" : "") }, g);
    for (const c of nd.children || []) {
      svgEl("line", { x1: X(nd), y1: Y(nd) + 11, x2: X(c), y2: Y(c) - 11, stroke: "#a0aec0" }, svg);
      walk(c);
    }
  })(root);
  return placed;
}

// ------------------------------------------------------------------------------- wiring
async function refresh(withTrace) {
  try {
    S.net = await api("network", S.req);
    if (!STATIC) { S.req.inputs = S.net.inputs; S.req.target = S.net.target; S.req.weights = S.net.weights; }
    drawNetwork();
    if (!S.net.weights[S.selected] && !S.net.layers.flat().some((n) => n.name === S.selected)) S.selected = "w11^1";
    await select(S.selected);
    await loadTrace();
    status("");
  } catch (e) { status(e.message, true); }
}

function resetNetwork() {
  S.req = { net: $("net-select").value.split(",").map(Number), activation: $("act-select").value, seed: Number($("seed").value) || 0 };
  S.losses = []; S.trainSteps = 0;
  if (STATIC) {  // the static page answers only for the preset state's request
    S.req = { ...STATIC.preset };
  }
  return refresh(true);
}

function wire() {
  $("net-select").addEventListener("change", resetNetwork);
  $("act-select").addEventListener("change", resetNetwork);
  $("seed").addEventListener("change", resetNetwork);
  $("trace-first").onclick = () => traceGo(0);
  $("trace-prev").onclick = () => traceGo(S.step - 1);
  $("trace-next").onclick = () => traceGo(S.step + 1);
  $("trace-last").onclick = () => traceGo(S.trace.steps.length - 1);
  $("trace-play").onclick = tracePlay;
  for (const k of ["x1", "x2", "y", "w"]) {
    $("edit-" + k).addEventListener("change", (e) => onEdit(k, e.target.value));
    $("slide-" + k).addEventListener("input", (e) => onEdit(k, e.target.value));
  }
  $("depth").addEventListener("input", loadComplexity);
  $("width").addEventListener("input", loadComplexity);
  $("train-play").onclick = trainLoop;
  $("train-reset").onclick = () => { S.training = false; resetNetwork(); };
  $("fib-n").addEventListener("input", () => loadFib(false));
  $("fib-play").onclick = () => loadFib(true);
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea", "button"].includes(tag) || ev.target.closest("#network")) return;
    if (ev.key === "ArrowRight") { traceGo(S.step + 1); ev.preventDefault(); }
    else if (ev.key === "ArrowLeft") { traceGo(S.step - 1); ev.preventDefault(); }
    else if (ev.key === "Home") { traceGo(0); ev.preventDefault(); }
    else if (ev.key === "End") { traceGo(S.trace.steps.length - 1); ev.preventDefault(); }
    else if (ev.key === " ") { tracePlay(); ev.preventDefault(); }
  });
}

async function main() {
  wire();
  if (STATIC) {
    S.req = { ...STATIC.preset };
    $("net-select").disabled = $("act-select").disabled = $("seed").disabled = true;
    $("lr").disabled = true;
    status("static page: the preset network, its paths and memo table, and recorded training runs. `memograd play` explores freely.");
  }
  const m = /#state=(.+)$/.exec(location.hash);
  if (m && !STATIC) {
    try {
      const st = JSON.parse(decodeURIComponent(m[1]));
      S.req = { ...S.req, ...st };
      $("net-select").value = S.req.net.join(",");
      $("act-select").value = S.req.activation;
    } catch (e) { status("could not read the model's state from the address: " + e.message, true); }
  }
  await refresh(true);
  await loadComplexity();
  await loadFib(false);
  window.memogradReadyMs = performance.now();
  document.body.setAttribute("data-ready", "1");
}
main();
