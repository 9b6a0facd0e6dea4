// The page to_html writes: HTML, CSS and the script that draws the graph and steps through it;
// to_html puts the title at @TITLE@ and the graph's data (JSON) at @DATA@.
#pragma once

#include <string_view>

namespace tg::autograd::detail {

/// The template of to_html's page; everything is inline, nothing is fetched.
inline constexpr std::string_view kTapeHtmlPage = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; color: #1d2329; background: #fafafa; }
  header { padding: 10px 16px; background: #23313f; color: #fff; display: flex;
           align-items: center; gap: 16px; flex-wrap: wrap; }
  h1 { font-size: 18px; margin: 0; font-weight: 600; }
  header button { font-size: 14px; padding: 4px 12px; border-radius: 4px; border: 1px solid #9fb3c8;
                  background: #33475b; color: #fff; cursor: pointer; }
  header button:disabled { opacity: 0.4; cursor: default; }
  #step-counter { font-variant-numeric: tabular-nums; }
  .hint { font-size: 12px; color: #c4d2df; }
  main { display: flex; flex-direction: column; }
  #panel { padding: 10px 16px; background: #fff; border-bottom: 1px solid #d5dde5; min-height: 92px; }
  #phase { font-weight: 600; margin-bottom: 4px; }
  #phase.forward { color: #1b6e3a; }
  #phase.backward { color: #a33b12; }
  pre { margin: 2px 0; font: 13px ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap; }
  #flows { margin: 4px 0 0 0; padding-left: 22px; font: 13px ui-monospace, "DejaVu Sans Mono", monospace; }
  #graph { overflow: auto; padding: 8px; }
  svg text { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; fill: #1d2329; }
  .node rect { fill: #fff; stroke: #8795a1; stroke-width: 1.2; rx: 6; }
  .node.leaf rect { fill: #f3f6f9; }
  .node text.head { font-weight: bold; }
  .node text.op, .node text.shape { fill: #5a6773; }
  .node text.value { fill: #1b6e3a; }
  .node text.grad { fill: #a33b12; }
  .node.computed rect { stroke: #1b6e3a; }
  .node.has-grad rect { stroke: #a33b12; }
  .node.current rect { stroke: #e07b00; stroke-width: 3.5; fill: #fff6e8; }
  .node.receiving rect { stroke: #2a6bbf; stroke-width: 2.5; fill: #eef5ff; }
  .edge { fill: none; stroke: #aab4be; stroke-width: 1.4; marker-end: url(#arrow); }
  .edge.active-forward { stroke: #1b6e3a; stroke-width: 2.5; }
  .edge.active-backward { stroke: #a33b12; stroke-width: 2.5; stroke-dasharray: 6 3; }
  .edge-label { fill: #a33b12; font-weight: bold; }
</style>
</head>
<body>
<header>
  <h1>@TITLE@</h1>
  <button id="first" title="start (Home)">« start</button>
  <button id="prev" title="previous step (←)">◀ back</button>
  <button id="next" title="next step (→)">next ▶</button>
  <button id="last" title="end (End)">end »</button>
  <span id="step-counter"></span>
  <span class="hint">← → step, Home / End jump; #step=K in the URL opens step K</span>
</header>
<main>
  <section id="panel">
    <div id="phase"></div>
    <pre id="record-line"></pre>
    <pre id="arriving"></pre>
    <ul id="flows"></ul>
  </section>
  <section id="graph"></section>
</main>
<script id="tape-data" type="application/json">@DATA@</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("tape-data").textContent);
const R = data.records.length;
const LAST = 2 * R + 1;  // 0 start, 1..R forward, R+1..2R backward, 2R+1 done
const SVG = "http://www.w3.org/2000/svg";
const byId = {};
for (const n of data.nodes) byId[n.id] = n;

function el(name, attrs, parent, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

// The drawing: one box per leaf and record, one curve per edge, made once.
const svg = el("svg", {width: data.width, height: data.height, viewBox: `0 0 ${data.width} ${data.height}`});
const defs = el("defs", {}, svg);
const marker = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
                             markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"}, defs);
el("path", {d: "M 0 0 L 10 5 L 0 10 z", fill: "#8795a1"}, marker);
const edgeLayer = el("g", {}, svg);
const labelLayer = el("g", {}, svg);
const nodeLayer = el("g", {}, svg);
const edgeEls = [];
data.edges.forEach((e, i) => {
  const a = byId[e.from], b = byId[e.to];
  const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x - 2, y2 = b.y + b.h / 2;
  const dx = Math.max(30, (x2 - x1) / 2);
  const path = el("path", {class: "edge", id: `edge-${i}`,
                           d: `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`}, edgeLayer);
  // The label of what flows back sits a third of the way along, clear of the arrowheads.
  edgeEls.push({edge: e, path, mid: [x1 + (x2 - x1) / 3, y1 + (y2 - y1) / 3 - 6]});
});
const texts = {};
for (const n of data.nodes) {
  const g = el("g", {class: `node ${n.kind}`, id: `node-${n.id}`}, nodeLayer);
  el("rect", {x: n.x, y: n.y, width: n.w, height: n.h}, g);
  const line = (k, cls, text) =>
      el("text", {class: cls, id: `${cls}-${n.id}`, x: n.x + 10, y: n.y + 18 + 16 * k}, g, text);
  line(0, "head", n.head);
  line(1, "op", n.op);
  line(2, "shape", n.shape);
  texts[n.id] = {g, value: line(3, "value", ""), grad: line(4, "grad", "")};
}
document.getElementById("graph").appendChild(svg);

let step = 0;
function show(k) {
  step = Math.max(0, Math.min(LAST, k));
  document.body.dataset.step = step;
  const forward = step >= 1 && step <= R ? step : 0;          // record being computed
  const backward = step > R && step <= 2 * R ? 2 * R + 1 - step : 0;  // record running backward
  const current = forward || backward;
  const cur = current ? data.records[current - 1] : null;
  const receiving = new Set(backward ? cur.flows.map(f => f.to) : []);
  for (const n of data.nodes) {
    const t = texts[n.id];
    const computed = n.kind === "leaf" || step >= n.record;
    const gradShown = n.grad !== "" && step >= n.grad_step;
    t.value.textContent = computed && n.value !== "" ? `value ${n.value}` : "";
    t.grad.textContent = gradShown ? `grad ${n.grad}` : "";
    t.g.setAttribute("class", `node ${n.kind}` + (computed ? " computed" : "") +
                     (gradShown ? " has-grad" : "") + (cur && cur.id === n.id ? " current" : "") +
                     (receiving.has(n.id) ? " receiving" : ""));
  }
  labelLayer.textContent = "";
  for (const {edge, path, mid} of edgeEls) {
    let cls = "edge";
    if (cur && edge.to === cur.id) {
      cls += forward ? " active-forward" : " active-backward";
      const flow = backward ? cur.flows.find(f => f.input === edge.input) : null;
      if (flow) el("text", {class: "edge-label", x: mid[0], y: mid[1], "text-anchor": "middle"},
                   labelLayer, flow.passes);
    }
    path.setAttribute("class", cls);
  }
  const phase = document.getElementById("phase");
  const line = document.getElementById("record-line");
  const arriving = document.getElementById("arriving");
  const flows = document.getElementById("flows");
  flows.textContent = "";
  arriving.textContent = "";
  if (step === 0) {
    phase.className = "";
    phase.textContent = "start: the leaves hold their values; press → to run the forward pass";
    line.textContent = "";
  } else if (forward) {
    phase.className = "forward";
    phase.textContent = `forward pass: record ${forward} of ${R} computes its value`;
    line.textContent = cur.forward_line;
  } else if (backward) {
    phase.className = "backward";
    phase.textContent = `backward pass, step ${step - R} of ${R}: record ${backward} gets its gradient and passes it on`;
    line.textContent = cur.backward_line;
    arriving.textContent = cur.arriving === "" ? "no gradient reached this record"
                                               : `gradient arriving: ${cur.arriving}`;
    for (const f of cur.flows) {
      const li = document.createElement("li");
      li.textContent = f.text;
      flows.appendChild(li);
    }
  } else {
    phase.className = "backward";
    phase.textContent = "done: every leaf holds its gradient";
    line.textContent = "";
  }
  document.getElementById("step-counter").textContent = `step ${step} / ${LAST}`;
  document.getElementById("first").disabled = document.getElementById("prev").disabled = step === 0;
  document.getElementById("next").disabled = document.getElementById("last").disabled = step === LAST;
  try {  // file:// pages may refuse; the step still shows
    if (location.hash !== `#step=${step}`) history.replaceState(null, "", `#step=${step}`);
  } catch (e) { /* keep the old URL */ }
}

function fromHash() {
  const m = /step=(\d+)/.exec(location.hash);
  return m ? parseInt(m[1], 10) : 0;
}
document.getElementById("first").onclick = () => show(0);
document.getElementById("prev").onclick = () => show(step - 1);
document.getElementById("next").onclick = () => show(step + 1);
document.getElementById("last").onclick = () => show(LAST);
document.addEventListener("keydown", e => {
  if (e.key === "ArrowRight" || e.key === "ArrowDown") show(step + 1);
  else if (e.key === "ArrowLeft" || e.key === "ArrowUp") show(step - 1);
  else if (e.key === "Home") show(0);
  else if (e.key === "End") show(LAST);
  else return;
  e.preventDefault();
});
window.addEventListener("hashchange", () => show(fromHash()));
show(fromHash());
</script>
</body>
</html>
)page";

}  // namespace tg::autograd::detail
