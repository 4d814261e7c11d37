"""Ctrl-C in a command's first moments (importing what it needs, loading the scenario) exits 130
with "interrupted", like a later Ctrl-C, not click's "Aborted!" and 1. Deterministic: a real SIGINT,
sent by the process to itself when it starts importing a given module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import SMALL

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """\
import os, signal, sys

signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if started with SIGINT ignored

class InterruptOnImport:  # Ctrl-C when the module named first on the command line starts importing
    def find_spec(self, name, path=None, target=None):
        if name == sys.argv[1]:
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, InterruptOnImport())
from simcenter.cli import main

main(sys.argv[2:], prog_name="simcenter")
"""


@pytest.mark.slow  # a whole interpreter per case: the full suite runs it
@pytest.mark.parametrize("module", ["simcenter.results", "simcenter.resolve", "simcenter.comparison"])
def test_ctrl_c_while_a_command_starts_exits_130(module, tmp_path):
    script = tmp_path / "interrupted.py"
    script.write_text(SCRIPT)
    command = ["compare", SMALL, SMALL] if module == "simcenter.comparison" else ["run", SMALL]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script), module, *map(str, command), "--out", str(tmp_path / "out")],
                          env=environment, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (130, "interrupted\n")
    assert not (tmp_path / "out").exists()
