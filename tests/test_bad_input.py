"""Bad input never produces a traceback.

Every `tests/bad_input/*.yaml` except `base.yaml` is one case, run through the real CLI
(`simcenter validate FILE [--set K=V]...`). Each case states what it expects in its header:

    # <what is wrong>
    # set: dotted.key=value        (optional, repeatable: passed as --set)
    # xfail: <reason>              (optional: a known loader/schema bug; the test is strict)
    # expect: FILE:LINE:COL: dotted.key: what was expected (got X)   (one per problem, in order)

File names in the expected lines are relative to `tests/bad_input/`; the test strips that
directory from what the CLI prints, so it does not depend on where the repository lives.
The header comments are part of the file, so the line numbers count them.

Cases that would be awkward to commit (a NUL byte, more than 1 MiB, deep nesting, bad
UTF-8) are generated into tmp_path below.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simcenter.cli import main
from simcenter.resolve import load_scenario
from simcenter.scenario import load as scenario_load

CORPUS = Path(__file__).resolve().parent / "bad_input"
BASE = CORPUS / "base.yaml"
CASES = sorted(p for p in CORPUS.glob("*.yaml") if p != BASE)


def header(path: Path, tag: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"^# {tag}: (.*)$", text, flags=re.M)


def case_param(path: Path):
    reasons = header(path, "xfail")
    marks = [pytest.mark.xfail(strict=True, reason=reasons[0])] if reasons else []
    return pytest.param(path, marks=marks, id=path.stem)


def validate(*files: Path, sets: list[str] | tuple[str, ...] = ()):
    args = ["validate", *map(str, files)]
    for s in sets:
        args += ["--set", s]
    return CliRunner().invoke(main, args)


def relative(text: str, directory: Path) -> str:
    return text.replace(f"{directory}{os.sep}", "")


def assert_rejected(result, directory: Path, expected: list[str]) -> None:
    """Exit 2, exactly the expected problem lines on stderr, no `ok:`, no traceback."""
    # CliRunner catches exceptions: anything but sys.exit() would be a traceback in real life.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    assert relative(result.stderr, directory) == "".join(f"{line}\n" for line in expected)
    assert result.exit_code == 2
    assert "ok:" not in result.stdout


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_complete():
    assert len(CASES) >= 35
    for path in CASES:
        assert header(path, "expect"), f"{path.name}: no `# expect:` line"
        assert path.read_text(encoding="utf-8").startswith("# "), f"{path.name}: no description line"


def test_base_is_valid():
    result = validate(BASE)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"ok: {BASE}")


@pytest.mark.parametrize("path", [case_param(p) for p in CASES])
def test_bad_input(path: Path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written, not even into the working directory
    result = validate(path, sets=header(path, "set"))
    assert_rejected(result, CORPUS, header(path, "expect"))
    assert list(tmp_path.iterdir()) == []


def test_several_problems_are_all_reported_in_line_order():
    path = CORPUS / "many_problems.yaml"
    result = validate(path)
    lines = relative(result.stderr, CORPUS).splitlines()
    assert result.exit_code == 2
    assert len(lines) == len(header(path, "expect")) >= 5
    places = [tuple(int(n) for n in re.match(r"many_problems\.yaml:(\d+):(\d+): ", line).groups()) for line in lines]
    assert places == sorted(places)
    assert len({line.split(": ")[1] for line in lines}) == len(lines)  # one line per key


def test_good_and_bad_files_together():
    bad = CORPUS / "range_nan.yaml"
    result = validate(BASE, bad)
    assert result.stdout == f"ok: {BASE} (base: 1 townships, 2 items)\n"
    assert relative(result.stderr, CORPUS) == "".join(f"{line}\n" for line in header(bad, "expect"))
    assert result.exit_code == 2


def test_real_process_exit_status():
    """The console entry point, not just CliRunner: exit status 2, problems on stderr."""
    bad = CORPUS / "extends_error_in_parent.yaml"
    proc = subprocess.run([sys.executable, "-m", "simcenter", "validate", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert relative(proc.stderr, CORPUS) == "".join(f"{line}\n" for line in header(bad, "expect"))


# --------------------------------------------------------------------------- generated cases


def base_text() -> str:
    return BASE.read_text(encoding="utf-8")


def test_nul_byte(tmp_path):
    path = tmp_path / "nul.yaml"
    path.write_text(base_text().replace("name: base", "name: ba\x00se"), encoding="utf-8")
    assert_rejected(validate(path), tmp_path, ["nul.yaml:2:9: <document>: text without NUL bytes (got a NUL byte)"])


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("# Caf\u00e9\n".encode("latin-1") + BASE.read_bytes())
    assert_rejected(validate(path), tmp_path, ["latin1.yaml:1:1: <document>: UTF-8 text (got an undecodable byte at offset 5)"])


def padded(size: int) -> str:
    """The base scenario padded with comment lines to exactly `size` bytes."""
    text = base_text()
    missing = size - len(text.encode("utf-8"))
    lines, rest = divmod(missing, 100)
    text += ("#" + "x" * 98 + "\n") * lines
    if rest:
        text += "#" * (rest - 1) + "\n"
    assert len(text.encode("utf-8")) == size
    return text


def test_file_over_1_mib(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(padded(scenario_load.MAX_BYTES + 1), encoding="utf-8")
    assert_rejected(validate(path), tmp_path, ["big.yaml:1:1: <document>: a file of at most 1048576 bytes (got 1048577 bytes)"])


def test_file_of_exactly_1_mib_is_fine(tmp_path):
    path = tmp_path / "full.yaml"
    path.write_text(padded(scenario_load.MAX_BYTES), encoding="utf-8")
    result = validate(path)
    assert result.exit_code == 0, result.stderr


def test_nesting_too_deep(tmp_path):
    depth = 40
    path = tmp_path / "deep.yaml"
    nested = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v: 1\n"
    path.write_text(base_text() + nested, encoding="utf-8")
    first = len(base_text().splitlines()) + 1  # the line of k0
    # the mapping under k32 is the 33rd level: it starts on the line of k33
    key = ".".join(f"k{i}" for i in range(33))
    assert_rejected(validate(path), tmp_path, [f"deep.yaml:{first + 33}:67: {key}: nesting at most 32 levels deep"])


def test_nesting_too_deep_for_the_parser(tmp_path):
    path = tmp_path / "brackets.yaml"
    path.write_text("x: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert_rejected(validate(path), tmp_path, ["brackets.yaml:1:1: <yaml>: nesting at most 32 levels deep"])


# --------------------------------------------------------------------------- YAML 1.2: what is fine


def test_exponent_float_is_a_number(tmp_path):
    """YAML 1.2 reads 1e3 as 1000.0 (YAML 1.1 would have read the string '1e3')."""
    path = tmp_path / "exponent.yaml"
    path.write_text(base_text().replace("weight: 2", "weight: 1e3"), encoding="utf-8")
    result = validate(path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"ok: {path} (base: 1 townships, 2 items)\n"
    assert load_scenario(path).items["A1"].weight == 1000.0


ROOT = Path(__file__).resolve().parent.parent
EVERY_YAML = sorted([*(ROOT / "scenarios").rglob("*.yaml"), *(ROOT / "tests" / "data").glob("*.yaml"), *CORPUS.glob("*.yaml")])


@pytest.mark.parametrize("path", EVERY_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_reads_every_file_as_the_python_parser_does(path):
    """The fast parser gives the same data and marks, or the same located problem."""
    text = path.read_bytes().decode("utf-8", errors="replace")

    def parsed(fast: bool):
        try:
            return scenario_load.parse_yaml(text, str(path), fast=fast)
        except scenario_load.ScenarioError as e:
            return str(e)

    assert parsed(True) == parsed(False)


def test_the_fast_parser_is_used_and_hands_aliases_over():
    assert scenario_load._fast_parse("a: 1\nb: [x, y]\n", "f.yaml") == ({"a": 1, "b": ["x", "y"]},
                                                                        {(): ("f.yaml", 1, 1), ("a",): ("f.yaml", 1, 1),
                                                                         ("b",): ("f.yaml", 2, 1), ("b", "0"): ("f.yaml", 2, 5),
                                                                         ("b", "1"): ("f.yaml", 2, 8)})
    assert scenario_load._fast_parse("a: &x 1\nb: *x\n", "f.yaml") is None  # CoreLoader refuses it, located
    assert scenario_load._fast_parse("a: [1\n", "f.yaml") is None
