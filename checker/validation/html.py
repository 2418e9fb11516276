"""A self-contained page for a trace or a counterexample: a space-time diagram.

One lane per node, time running right (one column per event, so that nothing overlaps),
messages as arrows from their send to their receive (dashed to a cross when the network
dropped them), crashes, restarts and the tester's network changes marked; the first mismatch
(or the state an invariant fails in) ringed in red, with its field-by-field diff beside the
diagram; any event's recorded state on hover or click. Everything the page needs is in it: the
data as one JSON object (`<script type="application/json" id="diagram-data">`), the drawing
as an inline script, no network access.

Two producers share the page: a recorded trace (`dscheck check-trace FILE --html OUT`, this
module's `trace_diagram`) and a model checker's counterexample (`dscheck model-check ...
--html OUT`, `checker.validation.html_counterexample`). Both build the same data: `lanes`
(node names), `events` (each with `seq`, `lane`, `kind`, `label`, and optionally `state`,
`msg` id, `peer`), `messages` (`id`, `from` seq, `to` seq or null, `dropped`), `network`
changes, `focus` (the seq ringed, or null), `diff` (rows of field, expected, recorded) and a
few lines of `notes`. A long trace is shown as a window of `WINDOW` events ending just after
the mismatch (or its first events when there is none), and the page says which.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from checker.trace_check.check import TraceResult
from checker.validation.result import ValidationResult
from impl.files import open_atomically
from spec.errors import BadInput

WINDOW = 600  # events drawn at most
AFTER = 20  # events drawn after the focus


def trace_diagram(path: Path, validated: ValidationResult | None,
                  checked: TraceResult | None) -> dict[str, Any]:
    """The page's data for the trace at `path` and what was found in it."""
    mismatch = validated.mismatch if validated is not None else None
    violation = checked.violations[0] if checked is not None and checked.violations else None
    focus = mismatch.seq if mismatch is not None else (violation.seq if violation else None)
    with path.open(encoding="utf-8") as stream:
        header = json.loads(stream.readline())
        records = [json.loads(line) for line in stream]
    total = len(records)
    end = min(total, focus + AFTER) if focus is not None else min(total, WINDOW)
    start = max(0, end - WINDOW)
    shown = records[start:end]
    servers = header.get("config", {}).get("servers")
    lanes: list[str] = [f"s{i}" for i in range(servers)] if isinstance(servers, int) else []
    events, messages, network = [], {}, []
    for rec in shown:
        node = rec.get("node")
        name = f"s{node}" if isinstance(node, int) else str(node)
        kind = rec.get("event", "")
        if kind == "network":
            network.append({"seq": rec["seq"], "label": _network_label(rec)})
            continue
        if name not in lanes:
            lanes.append(name)
        event: dict[str, Any] = {"seq": rec["seq"], "lane": name, "kind": kind,
                                 "label": _label(rec), "line": rec["seq"] + 1}
        if "state" in rec:
            event["state"] = rec["state"]
        if "persist" in rec:
            event["persist"] = rec["persist"]
        if kind == "send":
            messages[rec["id"]] = {"id": rec["id"], "from": rec["seq"], "to": None,
                                   "dropped": False, "label": _msg_label(rec.get("msg"))}
        elif kind in ("receive", "drop") and rec.get("id") in messages:
            message = messages[rec["id"]]
            message["to"] = rec["seq"]
            message["dropped"] = kind == "drop"
        events.append(event)
    diff: list[list[Any]] = []
    notes: list[str] = [f"{path}: {header.get('system')} trace, events {start + 1}–{end} of "
                        f"{total} shown"]
    title = "trace: a behaviour of the spec" if validated is not None and mismatch is None \
        else "trace"
    if mismatch is not None:
        title = f"trace: {mismatch.rule} mismatch at line {mismatch.line}"
        notes.append(mismatch.detail)
        for tried in mismatch.tried:
            notes.append(f"tried {tried.action}" + (f" ({tried.note})" if tried.note else ""))
            diff.extend([tried.action, f, _plain(e), _plain(r)] for f, e, r in tried.diff)
        notes.extend(f"replay: {command}" for command in validated.replay) \
            if validated is not None else None
    elif violation is not None:
        title = f"trace: {violation.invariant} violated at line {violation.line}"
        notes.append(violation.detail)
    if checked is not None:
        notes.append(f"invariants: {checked.verdict.value}")
    if validated is not None:
        notes.append(f"validation against {validated.spec}: {validated.verdict.value}, "
                     f"{validated.events} events, {validated.searched} needed a search")
    return {"title": title, "lanes": lanes, "events": events,
            "messages": list(messages.values()), "network": network, "focus": focus,
            "diff": diff, "notes": notes}


def write_trace_page(path: Path, out: Path, validated: ValidationResult | None,
                     checked: TraceResult | None) -> None:
    if not out.resolve().parent.is_dir():
        raise BadInput(f"--html: directory {out.resolve().parent} does not exist", str(out))
    with open_atomically(out) as stream:
        stream.write(render_page(trace_diagram(path, validated, checked)))


def render_page(data: dict[str, Any]) -> str:
    """The page for the diagram `data` (see the module docstring)."""
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return _PAGE.replace("{{TITLE}}", html.escape(str(data.get("title", "dscheck")))) \
        .replace("{{DATA}}", payload)


def _label(rec: dict[str, Any]) -> str:
    kind = rec.get("event", "")
    if kind in ("send", "receive"):
        return f"{kind} {_msg_label(rec.get('msg'))}"
    if kind == "timer":
        return f"timer {rec.get('timer')}"
    if kind == "apply":
        return f"apply {rec.get('kind')} {rec.get('index')}"
    if kind in ("invoke", "return"):
        op = rec.get("op") or rec.get("output")
        return f"{kind} {json.dumps(op)[:60]}"
    if kind == "drop":
        return f"drop {rec.get('id')} ({rec.get('reason')})"
    return str(kind)


def _msg_label(msg: Any) -> str:
    if not isinstance(msg, dict):
        return ""
    fields = " ".join(f"{k}={json.dumps(v)[:24]}" for k, v in msg.items() if k != "type")
    return f"{msg.get('type')} {fields}"


def _network_label(rec: dict[str, Any]) -> str:
    return f"{rec.get('action')} {json.dumps(rec.get('args'))}"


def _plain(x: object) -> object:
    if isinstance(x, tuple):
        return [_plain(v) for v in x]
    name = getattr(x, "name", None)
    return name.lower() if isinstance(name, str) and not isinstance(x, str) else x


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{TITLE}}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fff}
header{padding:10px 16px;border-bottom:1px solid #ddd}
h1{font-size:16px;margin:0 0 4px}
.notes{margin:0;padding-left:18px;color:#444}
main{display:flex;gap:12px;padding:12px 16px}
#names{flex:0 0 auto}
#scroll{overflow:auto;border:1px solid #ddd;flex:1 1 auto;max-height:80vh}
aside{flex:0 0 360px;max-height:80vh;overflow:auto}
table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ddd;padding:2px 4px;text-align:left;vertical-align:top;
font-family:ui-monospace,monospace;font-size:12px}
tr.changed td{background:#fde2e2}
.lane-line{stroke:#bbb}
.lane-name{font:bold 12px ui-monospace,monospace;fill:#333}
g.event circle{fill:#4a7bd0;stroke:#fff}
g.event.send circle{fill:#8fb0e8}
g.event.timer circle{fill:#d39b22}
g.event.return circle,g.event.invoke circle{fill:#6aa84f}
g.event.apply circle{fill:#999}
g.event.crash circle{fill:#d11}
g.event.restart circle{fill:#1a9c3c}
g.event:hover circle,g.event.selected circle{stroke:#000;stroke-width:2}
g.event.focus .ring{fill:none;stroke:#d11;stroke-width:3}
path.msg{fill:none;stroke:#4a7bd0;stroke-opacity:.55;marker-end:url(#arrow)}
path.msg.dropped{stroke:#d11;stroke-dasharray:4 3;marker-end:url(#cross)}
line.net{stroke:#e69138;stroke-dasharray:2 3}
text.net{font-size:10px;fill:#b45f06}
#diff h2,#details h2{font-size:14px;margin:8px 0 4px}
</style></head>
<body>
<header><h1>{{TITLE}}</h1><ul class="notes" id="notes"></ul></header>
<main><div id="names"></div><div id="scroll"></div>
<aside><section id="diff"></section><section id="details"><h2>Event</h2>
<p>Hover over or click an event to see its recorded state.</p></section></aside></main>
<script type="application/json" id="diagram-data">{{DATA}}</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("diagram-data").textContent);
const NS = "http://www.w3.org/2000/svg";
const DX = 16, DY = 56, LEFT = 60, TOP = 40;
function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function cell(row, text, tag) {
  const c = document.createElement(tag || "td"); c.textContent = text; row.appendChild(c);
  return c;
}
const notes = document.getElementById("notes");
for (const n of D.notes) { const li = document.createElement("li"); li.textContent = n;
  notes.appendChild(li); }
const columns = new Map();
let col = 0;
const seqs = D.events.map((e) => e.seq).concat(D.network.map((n) => n.seq));
for (const seq of seqs.sort((a, b) => a - b)) columns.set(seq, col++);
const lastState = new Map();  // an event without a state shows its node's latest one
for (const e of D.events) {
  if (e.state) lastState.set(e.lane, e.state); else e.held = lastState.get(e.lane);
}
const laneY = new Map(D.lanes.map((name, i) => [name, TOP + i * DY]));
const width = (col + 2) * DX, height = TOP + D.lanes.length * DY;
const names = el("svg", {width: LEFT, height: height, id: "lane-names"},
  document.getElementById("names"));
const svg = el("svg", {width: width, height: height, id: "diagram"},
  document.getElementById("scroll"));
const defs = el("defs", {}, svg);
const arrow = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
  markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse"}, defs);
el("path", {d: "M0,0 L10,5 L0,10 z", fill: "#4a7bd0"}, arrow);
const cross = el("marker", {id: "cross", viewBox: "0 0 10 10", refX: 5, refY: 5,
  markerWidth: 8, markerHeight: 8}, defs);
el("path", {d: "M1,1 L9,9 M9,1 L1,9", stroke: "#d11", "stroke-width": 2}, cross);
D.lanes.forEach((name) => {
  const y = laneY.get(name);
  el("line", {class: "lane-line", x1: 0, x2: width, y1: y, y2: y}, svg);
  el("text", {class: "lane-name", x: 8, y: y + 4}, names).textContent = name;
});
const x = (seq) => (columns.get(seq) + 1) * DX;
for (const n of D.network) {
  const g = el("g", {class: "network", "data-seq": n.seq}, svg);
  el("line", {class: "net", x1: x(n.seq), x2: x(n.seq), y1: TOP - 20, y2: height}, g);
  el("text", {class: "net", x: x(n.seq) + 2, y: TOP - 24}, g).textContent = n.label;
  el("title", {}, g).textContent = n.label;
}
const bySeq = new Map(D.events.map((e) => [e.seq, e]));
for (const m of D.messages) {
  const from = bySeq.get(m.from);
  const to = m.to === null ? null : bySeq.get(m.to);
  if (!from || !to) continue;
  const x1 = x(from.seq), y1 = laneY.get(from.lane), x2 = x(to.seq), y2 = laneY.get(to.lane);
  const p = el("path", {class: m.dropped ? "msg dropped" : "msg", "data-id": m.id,
    d: `M${x1},${y1} L${x2},${y2}`}, svg);
  el("title", {}, p).textContent = (m.dropped ? "dropped: " : "") + m.label;
}
function show(e, g) {
  document.querySelectorAll("g.event.selected").forEach((s) => s.classList.remove("selected"));
  g.classList.add("selected");
  const box = document.getElementById("details");
  box.replaceChildren();
  const h = document.createElement("h2");
  h.textContent = `line ${e.line}: ${e.lane} ${e.label}`; box.appendChild(h);
  for (const key of ["state", "held", "persist"]) {
    if (!e[key]) continue;
    const t = document.createElement("table"); t.className = key;
    const head = document.createElement("tr");
    cell(head, key === "held" ? "state (its latest)" : key, "th"); cell(head, "", "th");
    t.appendChild(head);
    for (const k in e[key]) {
      const r = document.createElement("tr"); cell(r, k); cell(r, JSON.stringify(e[key][k]));
      t.appendChild(r);
    }
    box.appendChild(t);
  }
}
for (const e of D.events) {
  const cls = "event " + e.kind + (e.seq === D.focus ? " focus" : "");
  const g = el("g", {class: cls, "data-seq": e.seq, "data-lane": e.lane}, svg);
  const cx = x(e.seq), cy = laneY.get(e.lane);
  el("circle", {cx: cx, cy: cy, r: e.kind === "apply" ? 3 : 5}, g);
  if (e.seq === D.focus) el("circle", {class: "ring", cx: cx, cy: cy, r: 10}, g);
  el("title", {}, g).textContent = `line ${e.line}: ${e.lane} ${e.label}`;
  g.addEventListener("mouseenter", () => show(e, g));
  g.addEventListener("click", () => show(e, g));
}
const diff = document.getElementById("diff");
if (D.focus !== null) {
  const h = document.createElement("h2");
  h.textContent = D.diff.length ? "Expected by the spec vs recorded" : "Where it fails";
  diff.appendChild(h);
  if (D.diff.length) {
    const t = document.createElement("table"); t.id = "diff-table";
    const head = document.createElement("tr");
    for (const c of ["action", "field", "spec", "recorded"]) cell(head, c, "th");
    t.appendChild(head);
    for (const [action, field, expected, recorded] of D.diff) {
      const r = document.createElement("tr"); r.className = "changed";
      cell(r, action); cell(r, field); cell(r, JSON.stringify(expected));
      cell(r, JSON.stringify(recorded)); t.appendChild(r);
    }
    diff.appendChild(t);
  }
  const focus = document.querySelector("g.event.focus");
  if (focus) {
    show(bySeq.get(D.focus), focus);
    document.getElementById("scroll").scrollLeft = Math.max(0, x(D.focus) - 400);
  }
}
document.body.dataset.rendered = "yes";
</script></body></html>
"""
