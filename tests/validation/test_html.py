"""The validation page (`check-trace --html`): self-contained, its data is the result, and it
renders in headless Chromium with the mismatch ringed and its diff shown."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.linearizability.test_html import _chromium, _png_pixels

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "traces" / "golden" / "raft-basic-agree-2B-seed1.jsonl"


def broken_trace(tmp_path: Path) -> tuple[Path, int]:
    """The golden trace with one reply falsified; its line."""
    recs = [json.loads(t) for t in GOLDEN.read_text().splitlines()]
    k = next(i for i, r in enumerate(recs)
             if r.get("event") == "send" and r["msg"]["type"] == "RequestVoteReply")
    recs[k]["msg"]["granted"] = False
    path = tmp_path / "broken.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path, k + 1


def page_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="diagram-data">(.*?)</script>',
                      page, re.S)
    assert match
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def write_page(trace: Path, out: Path) -> dict[str, Any]:
    run = subprocess.run([sys.executable, "-m", "checker", "check-trace", "--json", "--html",
                          str(out), str(trace)], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert run.returncode in (0, 1), run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_the_page_is_self_contained_and_carries_the_mismatch(tmp_path: Path) -> None:
    trace, line = broken_trace(tmp_path)
    out = tmp_path / "page.html"
    result = write_page(trace, out)
    page = out.read_text()
    assert "https://" not in page and "<link" not in page and " src=" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    data = page_data(page)
    mismatch = result["validation"]["mismatch"]
    assert data["focus"] == mismatch["seq"] == line - 1
    assert data["diff"] == [["the reply of the step before", "granted", True, False]]
    assert data["lanes"] == ["s0", "s1", "s2"]
    assert len(data["events"]) + len(data["network"]) == line - 1 + 20  # up to 20 after it
    sends = sum(e["kind"] == "send" for e in data["events"])
    assert len(data["messages"]) == sends > 0


def test_a_clean_trace_has_a_page_without_a_focus(tmp_path: Path) -> None:
    out = tmp_path / "ok.html"
    assert write_page(GOLDEN, out)["verdict"] == "ok"
    data = page_data(out.read_text())
    assert data["focus"] is None and data["diff"] == []
    assert data["title"] == "trace: a behaviour of the spec"


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rendered = False
        self.events: list[dict[str, str]] = []
        self.focus: list[dict[str, str]] = []
        self.arrows = 0
        self.dropped = 0
        self.diff_rows = 0
        self.lane_names = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        cls = a.get("class", "").split()
        if tag == "body" and a.get("data-rendered") == "yes":
            self.rendered = True
        if tag == "g" and "event" in cls:
            self.events.append(a)
            if "focus" in cls:
                self.focus.append(a)
        if tag == "path" and "msg" in cls:
            self.arrows += 1
            self.dropped += "dropped" in cls
        if tag == "tr" and "changed" in cls:
            self.diff_rows += 1
        if tag == "text" and "lane-name" in cls:
            self.lane_names += 1


@pytest.mark.browser
def test_the_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); CI installs it")
    trace, line = broken_trace(tmp_path)
    out = tmp_path / "page.html"
    write_page(trace, out)
    data = page_data(out.read_text())
    dump = _chromium("--dump-dom", out.as_uri(), profile=tmp_path / "profile-dom")
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = _Dom()
    dom.feed(dump.stdout)
    assert dom.rendered, "the page's script did not run to its end"
    # What is drawn is the data: one mark per event, an arrow per delivered or dropped
    # message, the mismatch ringed at its line, its diff, a name per lane.
    assert [int(e["data-seq"]) for e in dom.events] == [e["seq"] for e in data["events"]]
    assert [int(f["data-seq"]) for f in dom.focus] == [line - 1]
    assert dom.arrows == sum(m["to"] is not None for m in data["messages"]) > 0
    assert dom.diff_rows == 1 and dom.lane_names == 3
    shot = tmp_path / "shot.png"
    taken = _chromium("--window-size=1200,800", f"--screenshot={shot}", out.as_uri(),
                      profile=tmp_path / "profile-shot")
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    pixels = _png_pixels(shot)
    assert len(set(pixels)) > 32, "the screenshot is blank"
    assert pixels.count(0) < 0.995 * len(pixels), "the screenshot is (almost) uniform"


def model_check_page(out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    run = subprocess.run([sys.executable, "-m", "checker", "model-check", "raft", "--bug",
                          "no-step-down", "--max-term", "2", "--json", "--html", str(out)],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    return json.loads(run.stdout), page_data(out.read_text())


def test_a_counterexample_has_the_same_page(tmp_path: Path) -> None:
    result, data = model_check_page(tmp_path / "cex.html")
    assert data["lanes"] == ["s0", "s1", "s2"]
    assert data["focus"] == len(data["events"])  # the last state is ringed
    assert len(data["events"]) == len(result["counterexample"]["steps"]) + 1
    assert result["counterexample"]["invariant"] in data["title"]
    # Every delivered message is drawn from the step that sent it to the one that took it.
    assert any(m["to"] is not None for m in data["messages"])
    assert all(m["from"] < m["to"] for m in data["messages"] if m["to"] is not None)


@pytest.mark.browser
def test_the_counterexample_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); CI installs it")
    out = tmp_path / "cex.html"
    _, data = model_check_page(out)
    dump = _chromium("--dump-dom", out.as_uri(), profile=tmp_path / "profile-dom")
    dom = _Dom()
    dom.feed(dump.stdout)
    assert dom.rendered
    assert [int(e["data-seq"]) for e in dom.events] == [e["seq"] for e in data["events"]]
    assert [int(f["data-seq"]) for f in dom.focus] == [data["focus"]]
    assert dom.arrows == sum(m["to"] is not None for m in data["messages"]) > 0
