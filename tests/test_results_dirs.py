"""Writing results directories: --force replaces a results directory wholly (a sweep keeps its
shards) and refuses anything else; one command at a time per directory (a flock); report -o
writes regular files only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

from simcenter.results import LOCK, locked
from builders import SMALL, invoke

SHORT = ["-r", 1, "--set", "horizon.days=3", "--set", "horizon.warmup_days=1", "--set", "horizon.drain_days=2"]


def test_force_replaces_the_whole_directory(tmp_path):
    out = tmp_path / "o"
    assert invoke("run", SMALL, *SHORT, "--records", "--report", "--out", out).exit_code == 0
    assert invoke("plot", out, "--kind", "waits").exit_code == 0
    (out / "effects.csv").write_text("stale\n", encoding="utf-8")
    old = {p.name for p in out.iterdir()}
    assert {"visits.parquet", "cases.parquet", "report.html", "figures", "effects.csv"} <= old
    result = invoke("run", SMALL, *SHORT, "--out", out, "--force")
    assert result.exit_code == 0, result.stderr
    fresh = tmp_path / "fresh"
    assert invoke("run", SMALL, *SHORT, "--out", fresh).exit_code == 0
    assert {p.name for p in out.iterdir()} == {p.name for p in fresh.iterdir()}


def test_force_refuses_a_directory_that_is_not_a_results_directory(tmp_path):
    home = tmp_path / "home"
    (home / "photos").mkdir(parents=True)
    (home / "notes.txt").write_text("keep me\n", encoding="utf-8")
    result = invoke("run", SMALL, *SHORT, "--out", home, "--force")
    assert result.exit_code == 2
    assert result.stderr == (f"--out {home}: a simcenter results directory for --force to replace "
                             "(got a non-empty directory without manifest.json)\n")
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt", "photos"]  # not even a lock file


def test_force_takes_the_directory_of_an_interrupted_command(tmp_path):
    """A command that fails or is interrupted leaves its lock file (one that finishes removes it):
    the mark of a results directory without a manifest yet."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "kpis.csv").write_text("half\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), locked(out):
        raise KeyboardInterrupt
    assert sorted(p.name for p in out.iterdir()) == [LOCK, "kpis.csv"]
    result = invoke("run", SMALL, *SHORT, "--out", out, "--force")
    assert result.exit_code == 0, result.stderr
    assert LOCK not in {p.name for p in out.iterdir()} and (out / "manifest.json").is_file()


def test_sweep_force_keeps_the_shards_only(tmp_path):
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        f"name: tiny\nbase: {SMALL}\ndesign: factorial\nfactors:\n  townships.east.windows.G1: [1, 2]\n"
        "replications: 1\nkpis: [wait_mean]\nsets: [horizon.days=3, horizon.warmup_days=1, horizon.drain_days=2]\n",
        encoding="utf-8")
    out = tmp_path / "sweep"
    assert invoke("sweep", experiment, "--out", out).exit_code == 0
    shards = sorted(p.name for p in (out / "shards").iterdir())
    (out / "report.html").write_text("stale", encoding="utf-8")
    result = invoke("sweep", experiment, "--out", out, "--force")
    assert result.exit_code == 0, result.stderr
    assert "0 replications computed, 2 reused" in result.stderr
    assert not (out / "report.html").exists() and sorted(p.name for p in (out / "shards").iterdir()) == shards


def test_a_locked_directory_is_refused_at_once(tmp_path):
    """flock locks belong to an open file: a second open in this process conflicts like another process."""
    out, more = tmp_path / "o", tmp_path / "more.yaml"
    more.write_text(f"extends: {SMALL}\nname: small-more\n", encoding="utf-8")
    assert invoke("run", SMALL, *SHORT, "--out", out).exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != LOCK}
    with locked(out):
        for command in (["run", SMALL, *SHORT], ["compare", SMALL, more, *SHORT]):
            result = invoke(*command, "--out", out, "--force")
            assert result.exit_code == 2
            assert result.stderr.splitlines()[-1] == f"{out}: in use by another simcenter command (pid {os.getpid()})"
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != LOCK} == before
    assert invoke("run", SMALL, *SHORT, "--out", out, "--force").exit_code == 0  # released


def test_the_lock_of_a_killed_process_is_released(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    code = f"import sys, time; from pathlib import Path; from simcenter.results import locked\n" \
           f"with locked(Path({str(out)!r})):\n    print('held', flush=True); time.sleep(60)\n"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        result = invoke("run", SMALL, *SHORT, "--out", out, "--force")
        assert (result.exit_code, result.stderr) == (2, f"{out}: in use by another simcenter command (pid {holder.pid})\n")
    finally:
        holder.kill()  # SIGKILL: no clean-up in the holder
        holder.wait()
    assert (out / LOCK).exists()
    started = time.perf_counter()
    assert invoke("run", SMALL, *SHORT, "--out", out, "--force").exit_code == 0
    assert time.perf_counter() - started < 30


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    assert invoke("run", SMALL, *SHORT, "--out", out).exit_code == 0
    return out


@pytest.mark.parametrize("what", ["fifo", "symlink", "directory", "device"])
def test_report_writes_regular_files_only(run_dir, tmp_path, what):
    target, aim = tmp_path / "report.html", tmp_path / "elsewhere.html"
    if what == "fifo":
        os.mkfifo(target)
    elif what == "symlink":
        aim.write_text("mine", encoding="utf-8")
        target.symlink_to(aim)
    elif what == "directory":
        target.mkdir()
    else:  # a device of our own (a copy of /dev/null): a writer that replaces it harms no system file
        try:
            os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device needs root")
    kind = {"fifo": "a FIFO", "symlink": "a symlink", "directory": "a directory", "device": "a device"}[what]
    result = invoke("report", run_dir, "-o", target)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"-o {target}: a regular file or a new path (got {kind})\n"
    if what == "symlink":
        assert target.is_symlink() and aim.read_text(encoding="utf-8") == "mine"


def test_report_replaces_a_regular_file(run_dir, tmp_path):
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")
    result = invoke("report", run_dir, "-o", target)
    assert result.exit_code == 0 and result.stdout == f"{target}\n"
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
