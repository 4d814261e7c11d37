"""Progress without a terminal (`> log 2>&1`, CI, Slurm): a plain line on stderr every
SIMCENTER_PROGRESS_SECONDS (default 10), none for a shorter run. The commands run through click's
runner, whose stderr is not a terminal."""

from __future__ import annotations

import re

import pytest

from simcenter.progress import duration
from builders import DATA, SMALL, invoke

LINE = re.compile(r"simcenter: (\d+)/(\d+) (replications|tasks) done, (\S+) elapsed(?:, about (\S+) left)?")


def progress(stderr: str) -> list[tuple[int, int, str]]:
    """(done, total, unit) of every progress line; every line that starts like one must be one."""
    lines = [line for line in stderr.splitlines() if line.startswith("simcenter: ")]
    assert all(LINE.fullmatch(line) for line in lines), lines
    return [(int(m[1]), int(m[2]), m[3]) for m in map(LINE.fullmatch, lines)]


def counts_rise_to(lines, total: int, unit: str) -> None:
    assert lines, "no progress line"
    done = [d for d, _, _ in lines]
    assert done == sorted(done) and 0 <= done[0] and done[-1] <= total
    assert {(t, u) for _, t, u in lines} == {(total, unit)}


def test_run_prints_a_line_every_interval_with_done_and_total(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMCENTER_PROGRESS_SECONDS", "0.05")
    result = invoke("run", SMALL, "-r", 3, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    counts_rise_to(progress(result.stderr), 3, "replications")


def test_compare_counts_every_scenario(tmp_path, monkeypatch):
    reform = tmp_path / "more.yaml"
    reform.write_text(f"extends: {SMALL}\nname: small-more-windows\ntownships: {{east: {{windows: {{G1: 2}}}}}}\n")
    monkeypatch.setenv("SIMCENTER_PROGRESS_SECONDS", "0.05")
    result = invoke("compare", SMALL, reform, "-r", 2, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    counts_rise_to(progress(result.stderr), 4, "replications")


def test_sweep_counts_tasks(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMCENTER_PROGRESS_SECONDS", "0.05")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    result = invoke("sweep", DATA / "sweep_grid.yaml", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    lines = progress(result.stderr)
    assert lines and {u for _, _, u in lines} == {"tasks"} and all(d <= t for d, t, _ in lines)


def test_staff_counts_the_replications_of_each_county_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMCENTER_PROGRESS_SECONDS", "0.05")
    result = invoke("staff", SMALL, "--target", "wait_p90<=15", "-r", 3, "--set", "horizon.days=4", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    lines = progress(result.stderr)
    assert lines and {(t, u) for _, t, u in lines} == {(3, "replications")}


def test_a_short_run_prints_no_progress(tmp_path, monkeypatch):
    monkeypatch.delenv("SIMCENTER_PROGRESS_SECONDS", raising=False)  # the default: every 10 s
    result = invoke("run", SMALL, "-r", 1, "--set", "horizon.days=3", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert progress(result.stderr) == []


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan"])
def test_a_bad_interval_is_one_line(value, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMCENTER_PROGRESS_SECONDS", value)
    result = invoke("run", SMALL, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"SIMCENTER_PROGRESS_SECONDS={value}: seconds between progress lines, a number > 0 (got {value!r})"]
    assert not (tmp_path / "out").exists()


def test_durations_read_like_a_clock():
    assert [duration(s) for s in (0, 4.6, 59.4, 65, 600, 3725)] == ["0s", "5s", "59s", "1m05s", "10m00s", "1h02m05s"]
