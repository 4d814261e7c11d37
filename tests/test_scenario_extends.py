"""What `extends:` may reach, and how it reads it (docs/scenario.md, extends).

A parent is any regular file the user names (relative to the extending file's folder, or
absolute) holding a YAML mapping of scenario keys, or a shipped scenario name. It is read at
most MAX_BYTES + 1 bytes; devices, FIFOs and directories are refused without being opened for
reading (a FIFO would block, /dev/zero would fill the memory); what a parent holds is never
shown when it is not a scenario."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from builders import SMALL, invoke
from simcenter.resolve import load_scenario
from simcenter.scenario import load
from test_bad_input import BASE, assert_rejected

SECRET = "hunter2-secret-value"


def child(folder: Path, parent: str, name: str = "child.yaml") -> Path:
    path = folder / name
    path.write_text(f"extends: {parent}\nname: child\n", encoding="utf-8")
    return path


def refused(folder: Path, parent: str, got: str) -> None:
    """child.yaml extending `parent` is refused at its extends line, and nothing is written."""
    path = child(folder, parent)
    result = invoke("validate", path)
    assert_rejected(result, folder, [f"child.yaml:1:1: extends: {got}"])
    assert SECRET not in result.stderr + result.stdout


def limited_validate(*args, folder: Path) -> subprocess.CompletedProcess:
    """`simcenter validate ARGS` in a process that may not take more than 3 GB of memory:
    reading a whole huge file would fail it (exit 1), not the machine."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))

    return subprocess.run([sys.executable, "-m", "simcenter", "validate", *map(str, args)], cwd=folder, text=True,
                          capture_output=True, timeout=120, preexec_fn=limit)


def test_a_device_is_refused_without_reading_it(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    proc = limited_validate("child.yaml", folder=child(tmp_path, "zero.yaml").parent)
    assert (proc.returncode, proc.stderr) == (2, "child.yaml:1:1: extends: a regular file (got /dev/zero: a character device)\n")


def test_an_absolute_device_is_refused(tmp_path):
    proc = limited_validate("child.yaml", folder=child(tmp_path, "/dev/zero").parent)
    assert (proc.returncode, proc.stderr) == (2, "child.yaml:1:1: extends: a regular file (got /dev/zero: a character device)\n")


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    refused(tmp_path, "pipe.yaml", "a regular file (got pipe.yaml: a FIFO)")


def test_a_directory_is_refused(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    refused(tmp_path, "folder.yaml", "a regular file (got folder.yaml: a directory)")


def test_a_parent_is_read_only_up_to_the_size_limit(tmp_path):
    with open(tmp_path / "big.yaml", "wb") as f:
        f.truncate(10 * 1024**3)  # sparse: 10 GiB that take no room on disk
    path = child(tmp_path, "big.yaml")
    proc = limited_validate(path, folder=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    size = f"a file of at most {load.MAX_BYTES} bytes"
    assert proc.stderr == f"{path}:1:1: extends: {size} (got {tmp_path / 'big.yaml'}: 10737418240 bytes)\n"


def test_a_device_named_on_the_command_line_is_read_only_up_to_the_size_limit(tmp_path):
    proc = limited_validate("/dev/zero", folder=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    size = f"a file of at most {load.MAX_BYTES} bytes"
    assert proc.stderr == f"/dev/zero:1:1: <document>: {size} (got more than {load.MAX_BYTES} bytes)\n"


@pytest.mark.parametrize("content, kind", [
    (f"{SECRET}\nmore text\n", "text"),
    (f"- {SECRET}\n- b\n", "a list"),
    (f"password: {SECRET}\nuser: me\n", "a mapping without scenario keys"),
    ("", "an empty document"),
])
def test_foreign_content_is_refused_without_showing_it(tmp_path, content, kind):
    (tmp_path / "notes.yaml").write_text(content, encoding="utf-8")
    refused(tmp_path, "notes.yaml", f"a scenario file (got notes.yaml: {kind})")


def test_a_shipped_scenario_name_is_a_parent(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("extends: baseline\nname: mine\nhorizon: {days: 40, warmup_days: 5}\n", encoding="utf-8")
    mine, baseline = load_scenario(path), load_scenario("baseline")
    assert mine.name == "mine" and mine.horizon.days == 40
    assert mine.townships == baseline.townships and mine.items == baseline.items


def test_a_file_beside_wins_over_a_shipped_name(tmp_path):
    (tmp_path / "baseline.yaml").write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    path = child(tmp_path, "baseline.yaml")
    assert set(load_scenario(path).townships) == {"east", "west"}


def test_relative_parents_may_climb_and_absolute_ones_are_fine(tmp_path):
    (tmp_path / "sub").mkdir()
    climbing = child(tmp_path / "sub", "../base.yaml")
    (tmp_path / "base.yaml").write_text(BASE.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_scenario(climbing).name == "child"
    assert load_scenario(child(tmp_path, str(BASE), "absolute.yaml")).name == "child"


def test_a_cycle_through_three_files_is_refused(tmp_path):
    for name, parent in [("c1", "c2"), ("c2", "c3"), ("c3", "c1")]:
        (tmp_path / f"{name}.yaml").write_text(f"extends: {parent}.yaml\n", encoding="utf-8")
    assert_rejected(invoke("validate", tmp_path / "c1.yaml"), tmp_path,
                    ["c3.yaml:1:1: extends: extends without a cycle (got c1.yaml -> c2.yaml -> c3.yaml -> c1.yaml)"])


def test_a_file_extending_itself_is_refused(tmp_path):
    path = child(tmp_path, "child.yaml")
    assert_rejected(invoke("validate", path), tmp_path,
                    ["child.yaml:1:1: extends: extends without a cycle (got child.yaml -> child.yaml)"])


def test_extends_are_at_most_8_levels_deep(tmp_path):
    (tmp_path / "p0.yaml").write_text(BASE.read_text(encoding="utf-8"), encoding="utf-8")
    for level in range(1, 11):
        (tmp_path / f"p{level}.yaml").write_text(f"extends: p{level - 1}.yaml\n", encoding="utf-8")
    assert load_scenario(tmp_path / f"p{load.MAX_EXTENDS}.yaml").name == "base"
    assert_rejected(invoke("validate", tmp_path / f"p{load.MAX_EXTENDS + 1}.yaml"), tmp_path,
                    ["p1.yaml:1:1: extends: at most 8 levels of extends (got 9)"])
