"""The HTML report: one self-contained page (inline CSS and JS, no network) per run.

For each file and each part it draws every client's operations on a time line (one row per
client), the linearization as points joined in order with the model state after each (hover
a point, or read the table below), and for a violation where it breaks: the operations that
cannot be placed next and the one that must precede everything called after its return.
The data is embedded as JSON (`<script id="lin-data">`), so tests can read back what is drawn.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from checker.files import write_output
from checker.linearizability.render import part_json
from checker.linearizability.result import LinResult


def report_data(results: Sequence[tuple[str, LinResult]]) -> list[dict[str, Any]]:
    return [
        {
            "file": path,
            "verdict": result.verdict.value,
            "model": result.model,
            "operations": result.operations,
            "seconds": round(result.seconds, 6),
            "partitions": [
                part_json(p, with_operations=True, with_states=True) for p in result.partitions
            ],
        }
        for path, result in results
    ]


def render_html(results: Sequence[tuple[str, LinResult]]) -> str:
    data = json.dumps(report_data(results), ensure_ascii=False)
    # Inside <script>, only "</" could end the element early; escape it.
    data = data.replace("</", "<\\/")
    title = html.escape(", ".join(path for path, _ in results))
    return _PAGE.replace("@TITLE@", title).replace("@DATA@", data)


def write_html(path: str, results: Sequence[tuple[str, LinResult]]) -> None:
    """Write the page atomically: a reader never sees half a report."""
    write_output(path, render_html(results), "the HTML report")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>dscheck lin: @TITLE@</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 2em; }
.verdict-ok { color: #1a7f37; } .verdict-violation { color: #cf222e; } .verdict-unknown { color: #9a6700; }
.part { border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; margin: 1em 0; }
.part > summary { cursor: pointer; font-weight: 600; }
svg { display: block; margin: .5em 0; }
.op rect { fill: #dbe9f8; stroke: #5b8fc7; }
.op.pending rect { fill: #eee; stroke: #999; stroke-dasharray: 4 3; }
.op.refused rect { fill: #ffd8d3; stroke: #cf222e; stroke-width: 2; }
.op.must rect { stroke: #cf222e; stroke-width: 3; }
.op.placed rect { fill: #d3f2dc; stroke: #1a7f37; }
.op text { font-size: 10px; pointer-events: none; }
.lin-point { fill: #1a7f37; } .lin-path { fill: none; stroke: #1a7f37; stroke-width: 1.5; }
.break-line { stroke: #cf222e; stroke-width: 2; stroke-dasharray: 6 4; }
.client { font-size: 11px; fill: #555; }
table { border-collapse: collapse; margin: .5em 0; font-size: 12px; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
tr.refusal td { background: #ffd8d3; }
.why { background: #fff4f2; border-left: 4px solid #cf222e; padding: .4em .8em; }
code { font-size: 12px; }
</style></head>
<body>
<h1>dscheck lin</h1>
<div id="report"></div>
<script type="application/json" id="lin-data">@DATA@</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("lin-data").textContent);
const SVGNS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}
function show(v) { return v === null ? "nil" : JSON.stringify(v); }
function drawPart(file, part, parent) {
  const box = el("details", {"class": "part", "data-key": show(part.key), "data-verdict": part.verdict,
    "data-operations": part.history.length, "data-placed": part.linearization.length}, parent);
  if (part.verdict === "violation") box.open = true;
  el("summary", {"class": "verdict-" + part.verdict}, box,
     (part.key === null ? "whole history" : "key " + show(part.key)) + ": " + part.verdict.toUpperCase() +
     " — " + part.history.length + " operations, " + part.linearization.length + " placed" +
     (part.note ? " (" + part.note + ")" : ""));
  const ops = part.history;
  // Time axis: the ranks of the distinct times, so that long idle gaps do not squash the ops.
  const times = [...new Set(ops.flatMap(o => o["return"] === null ? [o.call] : [o.call, o["return"]]))].sort((a, b) => a - b);
  const rank = new Map(times.map((t, i) => [t, i]));
  const end = times.length + 1;
  const clients = [...new Set(ops.map(o => String(o.client)))];
  const row = new Map(clients.map((c, i) => [c, i]));
  const W = Math.max(800, Math.min(6000, end * 28)), left = 60, H = 26, top = 20;
  const x = r => left + (r + 0.5) * (W - left - 10) / end;
  const svg = el("svg:svg", {width: W, height: top + clients.length * H + 20, "class": "timeline"}, box);
  clients.forEach((c, i) => el("svg:text", {x: 4, y: top + i * H + 16, "class": "client"}, svg, "client " + c));
  const placed = new Map(part.linearization.map(([index, state], k) => [index, {k, state}]));
  const refused = new Set((part.refusals || []).map(r => r.operation.index));
  const must = part.must_precede ? part.must_precede.index : null;
  for (const w of (part.witnesses || [])) refused.add(w.index);
  const where = new Map();
  for (const o of ops) {
    const x0 = x(rank.get(o.call)), x1 = o["return"] === null ? x(end - 0.5) : x(rank.get(o["return"]));
    const y = top + row.get(String(o.client)) * H;
    let cls = "op" + (o["return"] === null ? " pending" : "") + (placed.has(o.index) ? " placed" : "") +
              (refused.has(o.index) ? " refused" : "") + (o.index === must ? " must" : "");
    const g = el("svg:g", {"class": cls, "data-index": o.index}, svg);
    el("svg:rect", {x: x0, y: y + 2, width: Math.max(4, x1 - x0), height: H - 6, rx: 3}, g);
    const label = o.text.replace(/^c\\S+ /, ""), fits = Math.max(1, Math.floor((x1 - x0 - 4) / 6));
    el("svg:text", {x: x0 + 3, y: y + 15}, g, label.length > fits ? label.slice(0, Math.max(0, fits - 1)) + "…" : label);
    el("svg:title", {}, g, o.text + "  [" + o.call + ", " + (o["return"] === null ? "∞" : o["return"]) + "]" +
       (o.line !== null ? "  line " + o.line : ""));
    where.set(o.index, {x0, x1, y});
  }
  // Linearization points: the earliest moment each can take effect, in linearization order.
  let prev = -Infinity, path = [];
  for (const [index, state] of part.linearization) {
    const w = where.get(index);
    const px = Math.min(Math.max(w.x0 + 2, prev), w.x1);
    prev = px;
    path.push([px, w.y + H / 2]);
  }
  if (path.length) el("svg:polyline", {"class": "lin-path", points: path.map(p => p.join(",")).join(" ")}, svg);
  part.linearization.forEach(([index, state], k) => {
    const c = el("svg:circle", {"class": "lin-point", cx: path[k][0], cy: path[k][1], r: 4, "data-index": index, "data-step": k}, svg);
    el("svg:title", {}, c, "#" + (k + 1) + " state after: " + show(state));
  });
  if (part.refutation) {
    const why = el("div", {"class": "why"}, box);
    el("p", {}, why, "Not linearizable, before any search: " + part.refutation + ".");
    const list = el("ul", {}, why);
    for (const w of part.witnesses) el("li", {"class": "refusal"}, list, w.text);
  }
  if (part.verdict === "violation" && part.must_precede) {
    const w = where.get(must);
    if (w) el("svg:line", {"class": "break-line", x1: w.x1, x2: w.x1, y1: 5, y2: top + clients.length * H + 10}, svg);
    const why = el("div", {"class": "why"}, box);
    el("p", {}, why, "After the " + part.linearization.length + " operations placed, the state is " + show(part.state) +
       " and nothing can be placed next. " + part.must_precede.text + " must be placed before its return (red dashed line).");
    const list = el("ul", {}, why);
    for (const r of part.refusals) {
      el("li", {"class": "refusal"}, list, r.operation.text + (r.output_mismatch ?
        ": the model returns " + show(r.model_output) + " here" : ": fits, but nothing can follow it"));
    }
  }
  const table = el("table", {"class": "linearization"}, box);
  const head = el("tr", {}, table);
  ["#", "operation", "state after"].forEach(h => el("th", {}, head, h));
  const byIndex = new Map(ops.map(o => [o.index, o]));
  part.linearization.forEach(([index, state], k) => {
    const tr = el("tr", {"data-index": index}, table);
    el("td", {}, tr, String(k + 1)); el("td", {}, tr, byIndex.get(index).text); el("td", {}, tr, show(state));
  });
  for (const r of (part.refusals || [])) {
    const tr = el("tr", {"class": "refusal"}, table);
    el("td", {}, tr, "✗"); el("td", {}, tr, r.operation.text);
    el("td", {}, tr, r.output_mismatch ? "model returns " + show(r.model_output) : "dead end");
  }
}
const report = document.getElementById("report");
for (const file of DATA) {
  const section = el("section", {"class": "file", "data-file": file.file, "data-verdict": file.verdict}, report);
  el("h2", {"class": "verdict-" + file.verdict}, section,
     file.file + ": " + file.verdict.toUpperCase() + " (" + file.model + ", " + file.operations + " operations, " +
     file.seconds.toFixed(3) + " s CPU)");
  // Failing parts first; at most 50 parts drawn, the rest listed.
  const order = {violation: 0, unknown: 1, ok: 2};
  const parts = [...file.partitions].sort((a, b) => order[a.verdict] - order[b.verdict]);
  parts.slice(0, 50).forEach(p => drawPart(file, p, section));
  if (parts.length > 50) el("p", {}, section, (parts.length - 50) + " more parts not drawn.");
}
document.body.setAttribute("data-rendered", "yes");
</script>
</body></html>
"""
