"""The one atomic writer (`impl.files`) and the checker's wrapper for files a user named:
whole files or none, no temporary file left behind on any failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checker.files import write_output
from impl.files import open_atomically, write_atomically
from spec.errors import BadInput


def test_text_and_bytes_land_whole_and_leave_only_the_target(tmp_path: Path) -> None:
    write_atomically(tmp_path / "a.txt", "één\nline\n")
    write_atomically(tmp_path / "b.bin", b"\x00\xffraw")
    assert (tmp_path / "a.txt").read_bytes() == "één\nline\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xffraw"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_replacing_a_file_swaps_it_whole(tmp_path: Path) -> None:
    target = tmp_path / "state"
    target.write_text("old")
    with open_atomically(target) as stream:
        stream.write("new, ")
        assert target.read_text() == "old"  # nothing visible until the block ends
        stream.write("longer")
    assert target.read_text() == "new, longer"
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), open_atomically(target, "wb") as stream:
        stream.write(b"half of the new")
        raise RuntimeError("crash in the middle")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


def test_a_failure_mid_write_of_a_new_file_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(UnicodeEncodeError), open_atomically(tmp_path / "new.txt") as stream:
        stream.write("fine so far")
        stream.write("\ud800")  # a lone surrogate cannot be written as UTF-8
    assert list(tmp_path.iterdir()) == []


def test_a_failing_sync_or_rename_removes_the_temporary(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(OSError):  # os.replace cannot put a file over a directory
        write_atomically(tmp_path / "dir", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["dir"]

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        write_atomically(tmp_path / "f", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["dir"]


def test_a_new_file_gets_the_permissions_a_plain_write_gives(tmp_path: Path) -> None:
    write_atomically(tmp_path / "atomic", "x")
    (tmp_path / "plain").write_text("x")
    assert (tmp_path / "atomic").stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_an_unwritable_output_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "report.md"
    with pytest.raises(BadInput) as caught:
        write_output(target, "text", "the report")
    assert str(caught.value) == f"{target}: cannot write the report: No such file or directory"
