"""The layout of a results directory that more than one layer needs: the columns of
comparison.csv and the file name a scenario's resolved copy gets. Standard library only, so
that the analysis (comparison), the writer (results) and the readers (plots, report) share it
without importing each other.
"""

from __future__ import annotations

import re

COMPARISON_COLUMNS = ("baseline", "reform", "kpi", "baseline_mean", "reform_mean", "difference",
                      "ci_low", "ci_high", "n", "level", "significant")  # comparison.csv


def file_stem(name: str) -> str:
    """A scenario name made safe as a file name (scenarios/NAME.resolved.yaml)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "scenario"
