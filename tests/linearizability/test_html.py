"""The HTML report: self-contained, its data matches the result, and it renders in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from checker.linearizability import check
from checker.linearizability.formats import load
from checker.linearizability.html import render_html
from checker.linearizability.models import model_named

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "traces" / "golden" / "histories"
FILES = [str(GOLDEN / "kv-stale-read.jsonl"), str(GOLDEN / "kv-ok.jsonl"), str(GOLDEN / "cas-etcd.log")]


def _embedded(page: str) -> list[dict]:
    match = re.search(r'<script type="application/json" id="lin-data">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


def test_page_is_self_contained_and_embeds_the_result() -> None:
    loaded = load(FILES[0])
    result = check(loaded.operations, model_named("kv"))
    page = render_html([(FILES[0], result)])
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<link" not in page and " src=" not in page
    data = _embedded(page)
    assert data[0]["verdict"] == "violation"
    part = data[0]["partitions"][0]
    assert [i for i, _state in part["linearization"]] == [p.op.index for p in result.partitions[0].linearization]
    assert part["refusals"][0]["model_output"] == "new"


class _Dom(HTMLParser):
    """Collects the elements the page's script drew (from chromium --dump-dom)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[dict[str, str]] = []
        self.files: list[dict[str, str]] = []
        self.ops = 0
        self.points = 0
        self.refused = 0
        self.rendered = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        cls = a.get("class", "").split()
        if tag == "body" and a.get("data-rendered") == "yes":
            self.rendered = True
        if tag == "section" and "file" in cls:
            self.files.append(a)
        if tag == "details" and "part" in cls:
            self.parts.append(a)
        if tag == "g" and "op" in cls:
            self.ops += 1
            self.refused += "refused" in cls
        if tag == "circle" and "lin-point" in cls:
            self.points += 1


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", *args,
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )


def _png_pixels(path: Path) -> bytes:
    """The decompressed image data of a PNG (filter bytes included): enough to see variety."""
    blob = path.read_bytes()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos : pos + 4])
        kind = blob[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += blob[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return zlib.decompress(idat)


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); CI installs it")
    out = tmp_path / "report.html"
    run = subprocess.run(
        [sys.executable, "-m", "checker", "lin", "--json", "--html", str(out), *FILES],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert run.returncode == 1, run.stderr  # one of the files is a violation
    results = [json.loads(line) for line in run.stdout.splitlines()]

    dump = _chromium("--dump-dom", out.as_uri(), profile=tmp_path / "profile-dom")
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = _Dom()
    dom.feed(dump.stdout)
    assert dom.rendered, "the page's script did not run to its end"
    # What is drawn is what the checker found, file by file and part by part.
    assert [(f["data-file"], f["data-verdict"]) for f in dom.files] == [(r["file"], r["verdict"]) for r in results]
    order = {"violation": 0, "unknown": 1, "ok": 2}
    expected_parts = [p for r in results for p in sorted(r["partitions"], key=lambda p: order[p["verdict"]])]
    assert [(p["data-verdict"], int(p["data-placed"])) for p in dom.parts] == [
        (p["verdict"], len(p["linearization"])) for p in expected_parts
    ]
    assert dom.ops == sum(p["operations"] for p in expected_parts)
    assert dom.points == sum(len(p["linearization"]) for p in expected_parts)
    assert dom.refused == sum(len(p.get("refusals", [])) for p in expected_parts) > 0

    shot = tmp_path / "shot.png"
    taken = _chromium("--window-size=1200,900", f"--screenshot={shot}", out.as_uri(), profile=tmp_path / "profile-shot")
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    pixels = _png_pixels(shot)
    assert len(set(pixels)) > 32, "the screenshot is blank"
    # A blank page filters to (almost) all zero bytes; the drawn report does not.
    assert pixels.count(0) < 0.995 * len(pixels), "the screenshot is (almost) uniform"
