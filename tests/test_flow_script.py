"""The README's Python snippet in a plain script, without `if __name__ == "__main__":`: worker
processes (forkserver, or spawn) must not run the script again, so `jobs=2` works and gives the
numbers of `jobs=1`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import SMALL

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = f"""\
import simcenter

runs = simcenter.run({str(SMALL)!r}, 4, jobs=2)
print(runs)
print(runs.result.executor)
print(repr(runs.summary().set_index("kpi").loc["wait_mean", "mean"]))
"""


@pytest.mark.slow  # a whole interpreter and a process pool: the full suite runs it
def test_jobs_2_in_a_script_without_a_main_guard(tmp_path):
    import simcenter

    script = tmp_path / "analysis.py"
    script.write_text(SCRIPT)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "BrokenProcessPool" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["Run(scenario='small', replications=4, kpis=49)", "processes:2"], done.stdout
    in_process = simcenter.run(SMALL, 4, jobs=1).summary().set_index("kpi").loc["wait_mean", "mean"]
    assert lines[2] == repr(in_process)  # the same number, to the last digit
