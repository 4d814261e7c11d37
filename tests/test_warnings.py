"""Overloaded back offices (simcenter.capacity) are reported by validate, run, compare and sweep.

A township or county review office whose offered load reaches 0.95 of its capacity never
settles, so its lead times depend on the horizon: every command that reads a scenario prints
one warning line per such office on stderr (plain text, never rich markup), and the results
directory's manifest.json keeps them under "warnings" for the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from builders import analytic, invoke
from simcenter import capacity
from simcenter.resolve import load_scenario



def township_scenario(name: str = "hill", review_minutes: float = 30.0, town_name: str = "Hill Town") -> dict:
    """One township, one reviewer open 1,440 minutes a day, 100 township-decided files a day of
    `review_minutes` each: 30 minutes → utilisation 3,000 / 1,440 ≈ 2.1; 5 minutes → 0.35."""
    data = analytic(cases_per_day=100.0, days=3, warmup=0, replications=2, seed=11)
    data["name"] = name
    data["items"] = {"X": {"department": "D", "weight": 1, "route": "township", "window_minutes": 1.0,
                           "township_lead_days": {"dist": "constant", "value": 1},
                           "review_minutes": review_minutes}}
    data["townships"] = {"hill": {"name": town_name, "cases_per_day": 100.0, "windows": {"G": 2}, "reviewers": 1}}
    return data


def write(tmp_path: Path, data: dict, stem: str | None = None) -> Path:
    path = tmp_path / f"{stem or data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def overloaded(tmp_path) -> Path:
    return write(tmp_path, township_scenario("over", 30.0))


@pytest.fixture
def settled(tmp_path) -> Path:
    return write(tmp_path, township_scenario("settled", 5.0))


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning:" in line]


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_the_scenarios_are_what_they_claim(overloaded, settled):
    over = capacity.overloaded(load_scenario(str(overloaded)))
    assert [(o.kind, o.id) for o in over] == [("township", "hill")] and over[0].ratio > 2
    assert capacity.overloaded(load_scenario(str(settled))) == []


def test_validate_warns_about_an_overloaded_township_and_exits_0(overloaded):
    result = invoke("validate", overloaded)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: ") and "warning" not in result.stdout
    lines = warning_lines(result.stderr)
    assert len(lines) == 1
    assert lines[0].startswith("warning: township hill (Hill Town) reviewers are overloaded")
    assert "utilisation 2.08 >= 0.95" in lines[0]
    assert lines == capacity.warnings(load_scenario(str(overloaded)))


def test_validate_is_silent_without_overload(settled):
    result = invoke("validate", settled)
    assert result.exit_code == 0
    assert result.stderr == ""


def test_validate_prefixes_the_scenario_when_several(overloaded, settled):
    result = invoke("validate", settled, overloaded)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 2
    lines = warning_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"{overloaded}: warning: township hill (Hill Town)")


def test_validate_still_fails_on_bad_input_besides_a_warning(overloaded, tmp_path):
    bad = township_scenario("bad")
    bad["horizon"]["dayz"] = 3
    result = invoke("validate", overloaded, write(tmp_path, bad))
    assert result.exit_code == 2
    assert len(warning_lines(result.stderr)) == 1 and "horizon.dayz" in result.stderr


def test_run_prints_and_records_the_warning(overloaded, tmp_path):
    result = invoke("run", overloaded, "--out", tmp_path / "o", "--json")
    assert result.exit_code == 0, result.stderr
    lines = warning_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("warning: township hill (Hill Town)")
    assert "warning" not in result.stdout  # stdout stays the JSON summary
    json.loads(result.stdout)
    assert manifest(tmp_path / "o")["warnings"] == lines


def test_run_without_overload_records_no_warning(settled, tmp_path):
    result = invoke("run", settled, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    assert warning_lines(result.stderr) == []
    assert manifest(tmp_path / "o")["warnings"] == []


def test_compare_prefixes_each_scenario(overloaded, settled, tmp_path):
    result = invoke("compare", settled, overloaded, "--out", tmp_path / "c", "--json")
    assert result.exit_code == 0, result.stderr
    lines = warning_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("over: warning: township hill (Hill Town)")
    assert manifest(tmp_path / "c")["warnings"] == lines


def test_compare_without_overload_records_no_warning(settled, tmp_path):
    other = write(tmp_path, township_scenario("settled-too", 6.0))
    result = invoke("compare", settled, other, "--out", tmp_path / "c", "--json")
    assert result.exit_code == 0, result.stderr
    assert warning_lines(result.stderr) == [] and manifest(tmp_path / "c")["warnings"] == []


def experiment(tmp_path: Path, base: Path, minutes: list[float], reviewers: list[float]) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump({
        "name": "warned", "base": base.name, "design": "grid",
        "factors": {"items.X.review_minutes": minutes, "townships.hill.reviewers": reviewers},
        "replications": 1,
    }, sort_keys=False), encoding="utf-8")
    return path


def test_sweep_warns_once_per_line_with_the_points_it_concerns(settled, tmp_path):
    # points: 0 (5 min, 1 reviewer), 1 (5, 3), 2 (30, 1) overloaded, 3 (30, 3) at 3,000 / 4,320 = 0.69
    result = invoke("sweep", experiment(tmp_path, settled, [5, 30], [1, 3]), "--out", tmp_path / "s")
    assert result.exit_code == 0, result.stderr
    lines = warning_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("point 2: warning: township hill (Hill Town)")
    assert manifest(tmp_path / "s")["warnings"] == lines


def test_sweep_gives_a_line_shared_by_every_point_once(overloaded, tmp_path):
    # the replication count differs between points, the scenario's load does not: one bare line
    path = experiment(tmp_path, overloaded, [30], [1])
    spec = yaml.safe_load(path.read_text())
    spec["factors"] = {"horizon.days": [2, 3]}
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = invoke("sweep", path, "--out", tmp_path / "s")
    assert result.exit_code == 0, result.stderr
    lines = warning_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("warning: township hill (Hill Town)")
    assert manifest(tmp_path / "s")["warnings"] == lines


def test_sweep_without_overload_records_no_warning(settled, tmp_path):
    result = invoke("sweep", experiment(tmp_path, settled, [5, 6], [1]), "--out", tmp_path / "s")
    assert result.exit_code == 0, result.stderr
    assert warning_lines(result.stderr) == [] and manifest(tmp_path / "s")["warnings"] == []


def test_warning_text_is_not_markup_nor_terminal_control(tmp_path):
    """Brackets in a name are text in the warning; an escape sequence never gets that far (the
    scenario file is refused where it is written: tests/test_cli.py)."""
    path = write(tmp_path, township_scenario("marked", 30.0, town_name="[bold red]Hill[/bold red] Town"))
    result = invoke("validate", path)
    assert result.exit_code == 0
    lines = warning_lines(result.stderr)
    assert len(lines) == 1
    assert "([bold red]Hill[/bold red] Town)" in lines[0]  # verbatim brackets
    out = tmp_path / "o"
    assert invoke("run", path, "-r", 1, "--out", out).exit_code == 0
    assert "[bold red]Hill[/bold red] Town" in manifest(out)["warnings"][0]  # the manifest keeps the text
    escaped = write(tmp_path, township_scenario("escaped", 30.0, town_name="Hill \x1b[31mTown"))
    refused = invoke("validate", escaped)
    assert refused.exit_code == 2 and "text without control characters (got a \\x1b)" in refused.stderr


def test_a_set_that_overloads_lingxi_is_reported():
    """--set applies before the reform levers, and full empowerment seconds county reviewers with
    the work it moves: lingxi's own reviewers are then not the binding limit, its demand is."""
    result = invoke("validate", "s1_full_empowerment", "--set", "townships.lingxi.cases_per_day=1500")
    assert result.exit_code == 0, result.stderr
    lines = warning_lines(result.stderr)
    assert any(line.startswith("warning: township lingxi (") for line in lines), result.stderr


def test_a_set_that_overloads_lingxi_is_reported_without_seconding():
    """As above with no county reviewers seconded to the townships by full empowerment."""
    result = invoke("validate", "s1_full_empowerment", "--set", "townships.lingxi.reviewers=0.2",
                    "--set", "reforms.0.full_empowerment.second_share=0")
    assert result.exit_code == 0, result.stderr
    lines = warning_lines(result.stderr)
    assert any(line.startswith("warning: township lingxi (") for line in lines), result.stderr


def shipped() -> list[str]:
    from simcenter.comparison import library

    return ["baseline", *library()]


@pytest.mark.parametrize("name", shipped())
def test_no_shipped_scenario_has_an_overloaded_office(name):
    assert [load.warning() for load in capacity.overloaded(load_scenario(name))] == []
