"""One self-contained HTML report of a results directory (`simcenter report`, `--report`).

The report is a single file that a planner can open offline or attach to an email: inline CSS,
inline SVG figures (from `simcenter.plots`), no JavaScript, and a Content-Security-Policy that
forbids every fetch. It is built from one `simcenter.resultsdir.ResultsDir` (manifest.json, the
tables, the summary statistics of summary.csv, the resolved scenarios), the same object the
figures are drawn from, so it works from an installed wheel too.

Warnings stored in manifest.json (`warnings`, a list of lines) come first, in a box above
everything else, followed there by the levers of a comparison that had no effect in the measured
horizon (`decision.lever_warnings`). Then sections, each an <h2> with a stable id: for a
comparison first decision (the reforms ranked in one table, then the township-effects heatmap),
then findings, comparison, waits, run-at-most-once, lead-times, resources, townships,
assumptions, manifest. Headline findings are plain sentences with their confidence intervals.

The modules: `wording` (numbers, intervals, differences and KPI labels in words), `decision` (the
first screen of a comparison: levers without effect, the ranked table), `findings`
(the findings section), `sections` (the other sections), `notes` (the data notes: those of the
shipped Cangnan data only for results made from it), `render` (blocks, inline SVG, the jinja
template templates/report.html.j2).

The same results directory gives the same bytes: nothing is timed or dated beyond what
manifest.json holds, every table is sorted, numbers have fixed formats, and the SVGs are
rendered without a date and with ids salted and prefixed per figure. User text (scenario
names, descriptions, argv) goes through jinja2's autoescaping; only our own SVG is marked safe.
"""

from __future__ import annotations

from pathlib import Path

from ..kpis import HEADLINE, REMOTE_KM, TRIP_BINS  # noqa: F401 - the catalogue's, as the report uses them
from ..results import OutputError, write_text
from ..resultsdir import ResultsDir, read
from . import decision, findings, sections
from .render import CSP, SECTIONS, figures, render
from .wording import bare, column, difference, interval, label, value

__all__ = ["CSP", "SECTIONS", "bare", "build", "column", "difference", "interval", "label", "value", "write"]

FINDINGS = {"run": findings.run, "compare": findings.compare, "sweep": findings.sweep}
TABLES = {"run": sections.run, "compare": sections.compare, "sweep": sections.sweep}


def build(results_dir, with_figures: bool = True) -> str:
    """The HTML report of a results directory (a path or a ResultsDir; OutputError if it is not one);
    `with_figures=False` leaves the figures out (the text and tables in a fraction of the time)."""
    results = results_dir if isinstance(results_dir, ResultsDir) else read(Path(results_dir))
    if results.kind not in FINDINGS:
        raise OutputError(f"{results.path}: a {results.kind} directory has no report yet (its tables and "
                          f"`simcenter plot {results.path}` are its outputs)")
    blocks = {key: [] for key, _ in SECTIONS}
    decision.section(results, blocks["decision"])
    FINDINGS[results.kind](results, blocks)
    TABLES[results.kind](results, blocks)
    sections.common_sections(results, blocks)
    sections.assumptions(results, blocks["assumptions"])
    sections.manifest_section(results, blocks["manifest"])
    if with_figures:
        figures(results, blocks)
    return render(results, blocks, decision.lever_warnings(results))


def write(results_dir, out=None) -> Path:
    """Write the report (default RESULTS_DIR/report.html) atomically; its path."""
    target = Path(out) if out is not None else Path(results_dir) / "report.html"
    if target.is_dir():
        raise OutputError(f"{target}: the report must be a file (got a directory)")
    if not target.parent.is_dir():
        raise OutputError(f"{target}: no such directory to write the report into ({target.parent})")
    write_text(target, build(results_dir))
    return target
