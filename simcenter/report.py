"""One self-contained HTML report of a results directory (`simcenter report`, `--report`).

The report is a single file that a planner can open offline or attach to an email: inline CSS,
inline SVG figures (from `simcenter.plots`), no JavaScript, and a Content-Security-Policy that
forbids every fetch. It reads only the results directory (manifest.json, the Parquet tables,
the resolved scenarios), so it works from an installed wheel too.

Warnings stored in manifest.json (`warnings`, a list of lines) come first, in a box above
everything else. Then sections, each an <h2> with a stable id: findings, comparison, waits,
run-at-most-once, lead-times, resources, townships, assumptions, manifest. Headline findings
are plain sentences with their confidence intervals.

The same results directory gives the same bytes: nothing is timed or dated beyond what
manifest.json holds, every table is sorted, numbers have fixed formats, and the SVGs are
rendered without a date and with ids salted and prefixed per figure. User text (scenario
names, descriptions, argv) goes through jinja2's autoescaping; only our own SVG is marked safe.
"""

from __future__ import annotations

import io
import json
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .kpis import HEADLINE, REMOTE_KM, ROUTE_NAMES, TRIP_BINS, kpi as catalogue_entry
from .results import OutputError, read_manifest, write_text

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

SECTIONS = (
    ("findings", "Findings"),
    ("comparison", "Comparison"),
    ("waits", "Waiting at the centre"),
    ("run-at-most-once", "Run at most once: trips per case"),
    ("lead-times", "Lead times and back offices"),
    ("resources", "Resources"),
    ("townships", "Townships"),
    ("assumptions", "Assumptions and provenance of the data"),
    ("manifest", "Manifest: how these results were made"),
)

# Labels, units, directions and the headline KPIs: simcenter.kpis.CATALOGUE. Below: which KPIs
# each section's table shows.
WAITS = ("wait_mean", "served_within_15_share", "wait_p90", "wait_max", "wait_over_30_share", "wait_p90_first_hour",
         "wait_p90_market_morning", "time_in_centre_mean", "abandon_share")
TRIPS = ("one_trip_rate", "one_trip_rate_official", "zero_trip_rate", "trips_per_case", "county_trips_per_case",
         "referrals_per_case", "travel_hours_per_case", "dropped_share", "elsewhere_share")
LEADS = ("lead_days_mean", "lead_days_p90", "decision_days_mean", "on_time_rate", "completed_share", "open_share",
         "township_files_in_progress_mean", "township_files_waiting_mean", "county_files_in_progress_mean",
         "county_files_waiting_mean")
RESOURCES = ("window_utilization_mean", "window_utilization_max", "township_reviewer_utilization_mean",
             "township_reviewer_utilization_max", "county_reviewer_utilization_max", "staff_hours_windows",
             "staff_hours_township_review", "staff_hours_county_review", "staff_hours", "visits", "cases")
TOWNSHIP_KPIS = ("cases", "wait_mean", "served_within_15_share", "one_trip_rate", "trips_per_case", "lead_days_mean",
                 "window_utilization_mean", "township_reviewer_utilization_max", "travel_hours_per_case")

# Which section shows the figures of each kind of simcenter.plots (others: comparison).
FIGURE_SECTION = {
    "compare": "comparison", "sweep": "comparison", "waits": "waits", "by-hour": "waits",
    "trips": "run-at-most-once", "lead-times": "lead-times", "utilization": "resources",
    "townships": "townships",
}

ASSUMPTIONS = (
    "Citizens arrive at a township hall in working hours, take a ticket and wait first come, first served "
    "for a window that accepts their item; they may balk at a long queue or renege when their patience runs "
    "out, and come back another day or finish elsewhere. Waits run from ticket to call and count served visits "
    "only.",
    "Items are decided at the window, by the township back office, or accepted and forwarded to county "
    "departments (shuttle, reviewers, sign-offs). Reviewers are a capacity limit where their number is set "
    "(county departments: county_reviewers; otherwise unlimited); sign-offs, joint reviews and meetings are pure "
    "delays; mail always takes one working day.",
    "Incomplete documents, abandoned queues, supplements and pickups cause extra trips. A trip is a visit "
    "to an office; cases handled by village agents or the mobile service have none.",
    "Lead time is counted in fractional working days from the first visit to the result in the citizen's "
    "hands; decision time (the official clock) from acceptance to decision, restarted by a re-submission. "
    "Cases are counted if created after the warm-up; the drain days after the last arrival only let open "
    "cases finish.",
    "Requests a township cannot accept are redirected to the county hall, and some county files need the "
    "citizen there once: those trips count, the county hall's own queue is not modelled. One set of opening "
    "sessions applies to every working day; summer hours, the Spring Festival and make-up working days are "
    "not modelled.",
    "Confidence intervals are Student t over independent replications, never over the correlated visits "
    "inside one run. Reforms are compared with the baseline replication by replication, on the same "
    "simulated citizens (common random numbers).",
)
DATA_NOTES = (
    "No per-centre volumes, waits, window counts or item lists from Cangnan itself were found in public "
    "sources: most numbers of the shipped Cangnan data are assumptions, chosen to be plausible and "
    "consistent. The baseline is a reasoned starting point, not a measurement.",
    "The 43-item catalogue of 15 county departments is a reconstruction: the counts match the source "
    "thesis, but which 43 items, their weights, window times, incomplete-document probabilities, routes, "
    "lead times and sign-offs are assumptions, to be replaced by Cangnan's official township item list.",
    "The resolved scenarios in this results directory carry no comments. The provenance of every number "
    "of the shipped data (public source, assumption or derivation) is in the comments of "
    "scenarios/baseline.yaml and in docs/data.md of the simcenter source; the model's assumptions are in "
    "docs/model.md and every KPI's definition in docs/kpis.md.",
)


# --- entry points ---------------------------------------------------------------------------------

def build(results_dir) -> str:
    """The HTML report of a results directory (OutputError if it is not one)."""
    source = _load(Path(results_dir))
    sections = {key: [] for key, _ in SECTIONS}
    builder = {"run": _run_sections, "compare": _compare_sections, "sweep": _sweep_sections}[source.kind]
    builder(source, sections)
    _assumptions(source, sections["assumptions"])
    _manifest(source, sections["manifest"])
    _figures(source, sections)
    return _render(source, sections)


def write(results_dir, out=None) -> Path:
    """Write the report (default RESULTS_DIR/report.html) atomically; its path."""
    target = Path(out) if out is not None else Path(results_dir) / "report.html"
    if target.is_dir():
        raise OutputError(f"{target}: the report must be a file (got a directory)")
    if not target.parent.is_dir():
        raise OutputError(f"{target}: no such directory to write the report into ({target.parent})")
    write_text(target, build(results_dir))
    return target


# --- reading the results directory ----------------------------------------------------------------

@dataclass
class Source:
    path: Path
    kind: str  # "run" | "compare" | "sweep"
    manifest: dict
    groups: list[str]  # scenario names (baseline first), or "point N"
    kpis: object  # DataFrame: group, replication, KPI columns
    summary: dict = field(default_factory=dict)  # (group, kpi) → (mean, low, high, n)
    by_township: object = None
    cases: object = None  # cases_summary with a group column
    departments: object = None  # kpis_by_department with a group column
    comparison: list[dict] = field(default_factory=list)
    effects: list[dict] = field(default_factory=list)
    scenarios: dict[str, dict] = field(default_factory=dict)  # name → resolved scenario
    points: dict[str, dict] = field(default_factory=dict)  # "point N" → factor values
    factors: list[str] = field(default_factory=list)

    def kpi_names(self) -> list[str]:
        skip = {"group", "scenario", "replication", "point", "township", *self.factors}
        return [c for c in self.kpis.columns if c not in skip]

    def stat(self, group: str, kpi: str) -> tuple[float, float, float, int]:
        return self.summary.get((group, kpi), (math.nan, math.nan, math.nan, 0))


def _load(path: Path) -> Source:
    import pandas as pd

    manifest = read_manifest(path)
    if not (path / "kpis.parquet").is_file():
        raise OutputError(f"{path}: not a results directory (got no kpis.parquet)")

    def table(name: str):
        file = path / name
        if not file.is_file():
            return None
        try:
            return pd.read_parquet(file) if name.endswith(".parquet") else pd.read_csv(file)
        except Exception as e:  # noqa: BLE001 - any reader error means the same to the user
            raise OutputError(f"{file}: unreadable ({type(e).__name__}: {e})") from None

    kpis = table("kpis.parquet")
    if "experiment" in manifest:
        kind = "sweep"
    elif manifest.get("command") == "compare" or (path / "comparison.csv").is_file():
        kind = "compare"
    else:
        kind = "run"
    source = Source(path, kind, manifest, [], kpis)
    if kind == "sweep":
        experiment = manifest["experiment"] if isinstance(manifest["experiment"], dict) else {}
        source.factors = [f for f in experiment.get("factors", []) if f in kpis.columns]
        source.by_township = table("kpis_by_township.parquet")
        for frame in (kpis, source.by_township):
            if frame is not None:
                frame.insert(0, "group", [f"point {int(p)}" for p in frame["point"]])
        source.groups = [f"point {p}" for p in sorted({int(p) for p in kpis["point"]})]
        for p in manifest.get("points", []):
            if isinstance(p, dict) and "point" in p:
                source.points[f"point {int(p['point'])}"] = p.get("factors") or {}
        effects = table("effects.csv")
        source.effects = [] if effects is None else effects.to_dict("records")
    else:
        names = [s["name"] for s in manifest.get("scenarios", []) if isinstance(s, dict) and "name" in s]
        present = [str(s) for s in dict.fromkeys(kpis["scenario"])]
        baseline = manifest.get("baseline")
        order = ([baseline] if baseline in present else []) + [n for n in names if n in present and n != baseline]
        source.groups = order + [s for s in present if s not in order]
        kpis.insert(0, "group", kpis["scenario"].astype(str))
        source.by_township = table("kpis_by_township.parquet")
        if source.by_township is not None:
            source.by_township.insert(0, "group", source.by_township["scenario"].astype(str))
        cases = table("cases_summary.parquet")
        if cases is not None:
            cases.insert(0, "group", cases["scenario"].astype(str))
        source.cases = cases
        departments = table("kpis_by_department.parquet")
        if departments is not None:
            departments.insert(0, "group", departments["scenario"].astype(str))
        source.departments = departments
        comparison = table("comparison.csv")
        source.comparison = [] if comparison is None else comparison.to_dict("records")
        source.scenarios = _resolved(path, kind, source.groups)
    source.summary = _summaries(source)
    return source


def _resolved(path: Path, kind: str, names: list[str]) -> dict[str, dict]:
    import yaml

    from .layout import file_stem

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 7 times faster on the Cangnan data
    files = {names[0]: path / "scenario.resolved.yaml"} if kind == "run" and names else \
        {n: path / "scenarios" / f"{file_stem(n)}.resolved.yaml" for n in names}
    out = {}
    for name, file in files.items():
        try:
            data = yaml.load(file.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            out[name] = data
    return out


def _summaries(source: Source) -> dict:
    """Each group's mean, 95% t interval and n of every KPI over its replications."""
    from .stats import t_interval

    out = {}
    frame = source.kpis.sort_values(["group", "replication"], kind="stable")
    kpis = source.kpi_names()
    for group, rows in frame.groupby("group", sort=True):
        for kpi in kpis:
            out[(str(group), kpi)] = t_interval(rows[kpi].to_numpy(float))
    return out


# --- numbers in words -----------------------------------------------------------------------------

def _decimals(kpi: str, value: float) -> int:
    unit = catalogue_entry(kpi).unit
    if unit == "share":
        return 1  # of percent
    if unit in ("cases", "visits"):
        return 0
    if unit in ("minutes", "files"):
        return 1
    if unit == "hours":
        return 0 if abs(value) >= 100 else 2
    if unit in ("trips", "working days", "referrals"):
        return 2
    return 0 if abs(value) >= 1000 else 1 if abs(value) >= 100 else 3


def _num(value: float, decimals: int, sign: bool = False) -> str:
    if value != value:
        return "n/a"
    text = format(abs(value), f",.{decimals}f")
    if float(text.replace(",", "")) == 0:
        return text
    return ("−" if value < 0 else "+" if sign else "") + text


# A number's unit after it (catalogue units; shares are written in percent, counts bare).
SUFFIX = {"minutes": " min", "working days": " working days", "trips": " trips", "referrals": " referrals",
          "hours": " h", "files": " files"}


def value(kpi: str, x: float, decimals: int | None = None) -> str:
    """A KPI value with its unit: 61.2%, 9.4 min, 12.35 working days, 1.54 trips."""
    unit = catalogue_entry(kpi).unit
    scale = 100 if unit == "share" else 1
    d = _decimals(kpi, x * scale) if decimals is None else decimals
    text = _num(x * scale, d)
    if text == "n/a":
        return text
    return text + ("%" if unit == "share" else SUFFIX.get(unit, ""))


def bare(kpi: str, x: float) -> str:
    """A KPI value for a table cell whose header has the unit: 61.2%, 9.4, 12.35."""
    unit = catalogue_entry(kpi).unit
    scale = 100 if unit == "share" else 1
    text = _num(x * scale, _decimals(kpi, x * scale))
    return text + "%" if unit == "share" and text != "n/a" else text


def interval(kpi: str, low: float, high: float) -> str:
    return "" if low != low or high != high else f"[{bare(kpi, low)}, {bare(kpi, high)}]"


def difference(kpi: str, d: float, low: float, high: float, short: bool = False) -> tuple[str, str, str]:
    """(difference, low, high) as signed text, the difference with its unit: '+3.1 points', '−2.3 min' ...;
    `short`: for a table cell, only shares keep a unit ('+3.1 pts')."""
    unit = catalogue_entry(kpi).unit
    scale = 100 if unit == "share" else 1
    base = _decimals(kpi, max(abs(d), abs(low) if low == low else 0, abs(high) if high == high else 0) * scale)
    decimals = base
    # enough decimals (up to 2 more) that nothing nonzero shows as 0 and distinct bounds stay distinct
    for extra in range(3):
        decimals = base + extra
        texts = [_num(x * scale, decimals, sign=True) for x in (d, low, high)]
        zeroish = any(x == x and x != 0 and float(t.lstrip("+−").replace(",", "")) == 0
                      for x, t in zip((d, low, high), texts))
        same = low == low and low != high and texts[1] == texts[2]
        if not zeroish and not same:
            break
    suffix = " points" if unit == "share" else SUFFIX.get(unit, "")
    if short:
        suffix = " pts" if unit == "share" else ""
    texts = [_num(x * scale, decimals, sign=True) for x in (d, low, high)]
    return texts[0] + suffix, texts[1], texts[2]


def level_text(level: float) -> str:
    return f"{level * 100:.3g}%"


def label(kpi: str) -> str:
    return catalogue_entry(kpi).label


def column(kpi: str) -> str:
    """A table header: the label and its unit."""
    entry = catalogue_entry(kpi)
    hidden = ("share", "cases", "visits", "trips", "referrals")  # shares show "%"; the others are in the label
    return entry.label if entry.unit in hidden or not entry.unit else f"{entry.label} ({entry.unit})"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- blocks: what the template renders ------------------------------------------------------------

def P(text: str, cls: str | None = None) -> dict:  # noqa: N802 - small constructors read like the HTML
    return {"type": "p", "text": text, "cls": cls}


def H3(text: str) -> dict:  # noqa: N802
    return {"type": "h3", "text": text}


def UL(items: list[str]) -> dict:  # noqa: N802
    return {"type": "ul", "items": items}


def cell(text: str, sub: str = "", cls: str = "") -> dict:
    return {"text": text, "sub": sub, "cls": cls}


def TABLE(head: list[str], rows: list[list[dict]], caption: str = "", left: int = 1) -> dict:  # noqa: N802
    """`left` leading columns are text; the others are numbers (right-aligned)."""
    return {"type": "table", "head": head, "rows": rows, "caption": caption, "left": left}


def DETAILS(summary: str, blocks: list[dict], open_: bool = False) -> dict:  # noqa: N802
    return {"type": "details", "summary": summary, "blocks": blocks, "open": open_}


def DL(items: list[tuple[str, str]]) -> dict:  # noqa: N802
    return {"type": "dl", "items": items}


def _kpi_table(source: Source, kpis, caption: str = "") -> dict:
    """Groups × KPIs: the mean, and below it the 95% interval."""
    kpis = [k for k in kpis if k in source.kpi_names()]
    rows = []
    for group in source.groups:
        row = [cell(group)]
        for kpi in kpis:
            mean, low, high, _ = source.stat(group, kpi)
            row.append(cell(bare(kpi, mean), interval(kpi, low, high)))
        rows.append(row)
    n = _n_text(source)
    return TABLE(["scenario" if source.kind != "sweep" else "point"] + [column(k) for k in kpis], rows,
                 caption or f"Mean over replications and, below it, its 95% Student t interval ({n}).")


def _n_text(source: Source) -> str:
    counts = source.kpis.groupby("group")["replication"].nunique()
    low, high = (int(counts.min()), int(counts.max())) if len(counts) else (0, 0)
    unit = "point" if source.kind == "sweep" else "scenario"
    plural = "s" if high != 1 else ""
    return f"n = {low} replication{plural} per {unit}" if low == high else f"n = {low}–{high} replications per {unit}"


# --- sections -------------------------------------------------------------------------------------

def _run_sections(source: Source, s: dict) -> None:
    group = source.groups[0]
    n = source.stat(group, "cases")[3]
    s["findings"] += [
        P(f"Scenario {group}, {n} replication{'s' if n != 1 else ''}: means over the replications with their "
          "95% Student t intervals."),
        UL([_run_sentence(source, group, k) for k in HEADLINE if k in source.kpi_names()]),
        P("A run shows one scenario's levels; to know whether a change makes a difference, compare it with a "
          "baseline (simcenter compare), which runs both on the same simulated citizens.", "note"),
    ]
    rows = []
    for kpi in source.kpi_names():
        mean, low, high, count = source.stat(group, kpi)
        rows.append([cell(label(kpi)), cell(kpi, cls="code"), cell(value(kpi, mean)),
                     cell(interval(kpi, low, high)), cell(str(count))])
    s["comparison"] += [
        P(f"Every KPI of {group} (definitions: docs/kpis.md in the simcenter source)."),
        TABLE(["KPI", "column", "mean", "95% interval", "n"], rows,
              "Mean over replications and its 95% Student t interval; n: replications with a value.", left=2),
    ]
    _common_sections(source, s)


def _run_sentence(source: Source, group: str, kpi: str) -> str:
    mean, low, high, _ = source.stat(group, kpi)
    return f"{_cap(label(kpi))}: {value(kpi, mean)}{_ci_words(kpi, low, high)}."


def _ci_words(kpi: str, low: float, high: float, level: str = "95%") -> str:
    """' (95% CI 60.0% to 69.9%)' for shares, ' (95% CI 2.81 to 4.85)' otherwise (the unit is on the mean)."""
    if low != low or high != high:
        return ""
    if catalogue_entry(kpi).unit == "share":
        return f" ({level} CI {value(kpi, low)} to {value(kpi, high)})"
    return f" ({level} CI {bare(kpi, low)} to {bare(kpi, high)})"


def _compare_sections(source: Source, s: dict) -> None:
    manifest = source.manifest
    baseline = source.groups[0]
    reforms = [g for g in source.groups[1:]]
    rows = {(r["reform"], r["kpi"]): r for r in source.comparison}
    level = float(manifest.get("comparison_level") or
                  (source.comparison[0]["level"] if source.comparison else 0.95))
    n = source.stat(baseline, "cases")[3]
    findings = s["findings"]
    if not reforms:
        findings += [P(f"Only the baseline {baseline} was run ({n} replications): its levels, with 95% Student t "
                       "intervals."),
                     UL([_run_sentence(source, baseline, k) for k in HEADLINE if k in source.kpi_names()])]
    else:
        k = f"{len(reforms)} reform{'s' if len(reforms) != 1 else ''}"
        findings.append(P(
            f"Each of the {k} ran the same {n} replications as the baseline {baseline}, on the same simulated "
            "citizens (common random numbers). A change is reported where the paired t interval of reform − "
            f"baseline excludes 0; each interval is at the {level_text(level)} level (Bonferroni across the {k}, "
            "not across the KPIs). Headline KPIs: " + _join([label(k) for k in HEADLINE]) + "."))
        findings.append(UL([_run_sentence(source, baseline, k) for k in HEADLINE if k in source.kpi_names()]))
        for reform in reforms:
            findings.append(H3(reform))
            description = _description(source.scenarios.get(reform, {}))
            if description:
                findings.append(P(description, "desc"))
            changed, unchanged, untested = [], [], []
            for kpi in HEADLINE:
                r = rows.get((reform, kpi))
                if r is None:
                    continue
                low, high = float(r["ci_low"]), float(r["ci_high"])
                if low != low or high != high:
                    untested.append(label(kpi))
                elif _significant(r):
                    changed.append(_change_sentence(reform, kpi, r, level))
                else:
                    unchanged.append(label(kpi))
            if changed:
                findings.append(UL(changed))
            else:
                findings.append(P(f"{reform} changes none of the headline KPIs detectably."))
            if unchanged and changed:
                findings.append(P(f"No detectable change in the {_join(unchanged)}."))
            if untested:
                findings.append(P(f"Not tested (fewer than 2 paired replications): {_join(untested)}.", "note"))
        findings.append(P("Detectable means the interval excludes 0 at that level: a small or rare effect can be "
                          "missed with few replications, and with many KPIs a few differences can be chance.",
                          "note"))
    # comparison: headline table, then every KPI
    head = ["scenario"] + [column(k) for k in HEADLINE if k in source.kpi_names()]
    table = []
    for group in source.groups:
        row = [cell(group + (" (baseline)" if group == baseline else ""))]
        for kpi in HEADLINE:
            if kpi not in source.kpi_names():
                continue
            mean, low, high, _ = source.stat(group, kpi)
            r = rows.get((group, kpi))
            if group == baseline or r is None:
                row.append(cell(bare(kpi, mean), interval(kpi, low, high)))
                continue
            d, lo, hi = difference(kpi, float(r["difference"]), float(r["ci_low"]), float(r["ci_high"]), short=True)
            sub = f"{d} [{lo}, {hi}]" if lo != "n/a" else d
            row.append(cell(bare(kpi, float(r["reform_mean"])), sub, "sig" if _significant(r) else ""))
        table.append(row)
    comparison = s["comparison"]
    comparison.append(P(
        "Headline KPIs per scenario. Baseline: mean and its 95% Student t interval. Reforms: mean, and below it "
        f"the difference from the baseline with its paired t interval at the {level_text(level)} level; in bold "
        "where the interval excludes 0."))
    comparison.append(TABLE(head, table, f"{_n_text(source)}; {manifest.get('comparison_method', '')}".rstrip("; ")))
    every = []
    for r in source.comparison:
        kpi = r["kpi"]
        d, lo, hi = difference(kpi, float(r["difference"]), float(r["ci_low"]), float(r["ci_high"]), short=True)
        every.append([cell(str(r["reform"])), cell(column(kpi)), cell(bare(kpi, float(r["baseline_mean"]))),
                      cell(bare(kpi, float(r["reform_mean"]))), cell(d, cls="sig" if _significant(r) else ""),
                      cell("" if lo == "n/a" else f"[{lo}, {hi}]"), cell(str(int(r["n"])))])
    if every:
        comparison.append(DETAILS(f"Every KPI, every reform ({len(every)} rows, as in comparison.csv)", [TABLE(
            ["reform", "KPI", "baseline mean", "reform mean", "difference", f"{level_text(level)} interval", "n"],
            every, "Difference = reform − baseline, paired by replication; in bold where the interval excludes 0. "
            "Shares are in percent and their differences in percentage points.", left=2)]))
    _common_sections(source, s)


def _significant(r: dict) -> bool:
    flag = r.get("significant")
    if isinstance(flag, str):
        return flag.strip().lower() == "true"
    return bool(flag) and flag == flag


def _change_sentence(reform: str, kpi: str, r: dict, level: float) -> str:
    base, new = float(r["baseline_mean"]), float(r["reform_mean"])
    d, lo, hi = difference(kpi, float(r["difference"]), float(r["ci_low"]), float(r["ci_high"]))
    verb = "raises" if float(r["difference"]) > 0 else "lowers"
    same = " (the same in every replication)" if float(r["ci_low"]) == float(r["ci_high"]) else ""
    return (f"{reform} {verb} the {label(kpi)} from {value(kpi, base)} to {value(kpi, new)} "
            f"({d}, {level_text(level)} CI {lo} to {hi}{same}).")


def _description(scenario: dict) -> str:
    text = scenario.get("description") if isinstance(scenario, dict) else None
    return " ".join(str(text).split()) if text else ""


def _sweep_sections(source: Source, s: dict) -> None:
    from .stats import paired_interval

    manifest = source.manifest
    experiment = manifest.get("experiment", {})
    n_text = _n_text(source)
    s["findings"].append(P(
        f"Experiment {experiment.get('name', '')} ({experiment.get('design', '')} design, {len(source.groups)} "
        f"point{'s' if len(source.groups) != 1 else ''}, {n_text}). Every point ran on the same simulated "
        "citizens (common random numbers), so each is compared with the best point replication by replication "
        "(paired t, 95% each, not adjusted for the number of points)."))
    failed = manifest.get("failed") or {}
    if isinstance(failed, dict) and failed:
        which = "; ".join(f"point {k}: {v}" for k, v in sorted(failed.items(), key=lambda kv: (len(str(kv[0])), str(kv[0]))))
        many = len(failed) != 1
        s["findings"].append(P(f"{len(failed)} point{'s' if many else ''} failed and {'are' if many else 'is'} "
                               f"left out: {which}.", "note"))
    frame = source.kpis
    items = []
    for kpi in HEADLINE:
        if kpi not in source.kpi_names():
            continue
        higher = catalogue_entry(kpi).higher_is_better is True  # neither (staff-hours): the lowest
        means = [(source.stat(g, kpi)[0], g) for g in source.groups if not math.isnan(source.stat(g, kpi)[0])]
        if not means:
            continue
        best = _best(means, higher)
        mean, low, high, _ = source.stat(best, kpi)
        ci = _ci_words(kpi, low, high)
        ours = frame[frame["group"] == best].set_index("replication")[kpi]
        worse, tied = 0, []
        for group in source.groups:
            if group == best:
                continue
            other = frame[frame["group"] == group].set_index("replication")[kpi]
            common = sorted(set(ours.index) & set(other.index))
            _, lo, hi, _ = paired_interval(other.loc[common].to_numpy(float), ours.loc[common].to_numpy(float))
            if lo == lo and (lo > 0 or hi < 0):
                worse += 1
            else:
                tied.append(group)
        word = "highest" if higher else "lowest"
        sentence = (f"{_cap(word)} {label(kpi)}: {best} ({_factors_text(source.points.get(best, {}))}), "
                    f"{value(kpi, mean)}{ci}.")
        others = len(source.groups) - 1
        if others:
            sentence += f" It is detectably better than {worse} of the {others} other point{'s' if others != 1 else ''}"
            shown = tied if len(tied) <= 8 else tied[:8] + [f"{len(tied) - 8} more"]
            sentence += f"; not detectably better than {_join(shown)}." if tied else "."
        items.append(sentence)
    s["findings"].append(UL(items) if items else P("None of the headline KPIs is in this sweep."))
    significant = [e for e in source.effects if _excludes_zero(e)]
    if source.effects:
        s["findings"].append(H3("Factor effects (2^k factorial)"))
        lines = []
        for e in significant:
            kpi = e["kpi"]
            d, lo, hi = difference(kpi, float(e["estimate"]), float(e["ci_low"]), float(e["ci_high"]))
            what = "main effect" if int(e.get("order", 1)) == 1 else "interaction"
            lines.append(f"The {what} of {e['effect']} on the {label(kpi)} (high level minus low level) is {d} "
                         f"(95% CI {lo} to {hi}).")
        s["findings"].append(UL(lines) if lines else P("No effect's 95% interval excludes 0."))
        if len(significant) < len(source.effects):
            s["findings"].append(P(f"The other {len(source.effects) - len(significant)} effects are not detectable "
                                   "at 95% (their intervals include 0); see the effects table.", "note"))
    # comparison: points × headline KPIs, then effects
    head = ["point"] + source.factors + [column(k) for k in HEADLINE if k in source.kpi_names()]
    rows = []
    for group in source.groups:
        factors = source.points.get(group, {})
        row = [cell(group)] + [cell(_plain(factors.get(f, ""))) for f in source.factors]
        for kpi in HEADLINE:
            if kpi in source.kpi_names():
                mean, low, high, _ = source.stat(group, kpi)
                row.append(cell(bare(kpi, mean), interval(kpi, low, high)))
        rows.append(row)
    s["comparison"].append(P("Headline KPIs at every point: mean over replications and, below it, its 95% Student t "
                             "interval."))
    s["comparison"].append(TABLE(head, rows, n_text, left=1 + len(source.factors)))
    if source.effects:
        effect_rows = []
        for e in source.effects:
            kpi = e["kpi"]
            d, lo, hi = difference(kpi, float(e["estimate"]), float(e["ci_low"]), float(e["ci_high"]), short=True)
            effect_rows.append([cell(column(kpi)), cell(str(e["effect"])), cell(str(int(e.get("order", 1)))),
                                cell(d, cls="sig" if _excludes_zero(e) else ""),
                                cell("" if lo == "n/a" else f"[{lo}, {hi}]"), cell(str(int(e.get("n", 0))))])
        s["comparison"].append(TABLE(["KPI", "effect", "order", "estimate", "95% interval", "n"], effect_rows,
                                     "Effects as in effects.csv: mean response at the high level minus at the low "
                                     "level, within each replication, with a Student t interval; in bold where it "
                                     "excludes 0.", left=2))
    _common_sections(source, s)


def _best(means: list[tuple[float, str]], higher: bool) -> str:
    """The group with the best mean (the first in order on a tie)."""
    best = means[0]
    for m in means[1:]:
        if (m[0] > best[0]) if higher else (m[0] < best[0]):
            best = m
    return best[1]


def _excludes_zero(e: dict) -> bool:
    low, high = float(e["ci_low"]), float(e["ci_high"])
    return low == low and high == high and (low > 0 or high < 0)


def _plain(x) -> str:
    if isinstance(x, bool):
        return "on" if x else "off"
    if isinstance(x, float):
        return format(x, "g")
    if isinstance(x, (dict, list)):
        return json.dumps(x, sort_keys=True, ensure_ascii=False)
    return str(x)


def _factors_text(factors: dict) -> str:
    return ", ".join(f"{k} = {_plain(v)}" for k, v in factors.items()) or "no factor"


def _common_sections(source: Source, s: dict) -> None:
    s["waits"].append(P("Waits run from ticket to call, over served visits; visits that balked, reneged or were "
                        "sent home at closing count in the share not served, not in the waits. 15 minutes is the "
                        "service-level target marked in the figures."))
    s["waits"].append(_kpi_table(source, WAITS))
    s["run-at-most-once"].append(P(
        "Over every case created after the warm-up that ended: completed, given up, or finished elsewhere after "
        "abandoning a queue. Strict one-trip rate: at most one in-person trip (county hall included) from first "
        "contact to result in hand, or to giving up; official rate: the official definition's count, from the "
        "trip on which complete documents were accepted to the result (cases never accepted, e.g. out of scope, "
        "are left out); zero-trip cases are handled by village agents or the mobile service."))
    s["run-at-most-once"].append(_kpi_table(source, TRIPS))
    s["lead-times"].append(P("Lead time: working days from the first visit to the result in the citizen's hands, "
                             "over completed cases. Decision time is the official clock, from acceptance to "
                             "decision (restarted by a re-submission); on time: decision time within the item's "
                             "promised days. Files in progress: time-average files in township back offices and at "
                             "the county; files waiting: those of them waiting for a reviewer."))
    s["lead-times"].append(_kpi_table(source, LEADS))
    if source.cases is not None and len(source.cases):
        s["run-at-most-once"].append(_route_table(source, "trips"))
        s["lead-times"].append(_route_table(source, "lead"))
    s["resources"].append(P("Window utilisation: busy minutes over open minutes, per window, then the mean over "
                            "windows (and the busiest window). Reviewer utilisation: busy seat-minutes over seats × "
                            "open minutes, per office with a reviewer limit. Staff-hours over the measured period: "
                            "windows' scheduled time (lunch windows through lunch) plus their overtime, township "
                            "reviewers and county reviewers over the open time."))
    s["resources"].append(_kpi_table(source, RESOURCES))
    if source.departments is not None and len(source.departments):
        s["resources"].append(_department_table(source))
    _townships(source, s["townships"])


def _department_table(source: Source) -> dict:
    """County departments with a reviewer limit: utilisation and files waiting, means over replications."""
    frame = source.departments
    rows = []
    for group in source.groups:
        mine = frame[(frame["group"] == group) & frame["reviewers"].notna()]
        means = mine.groupby(mine["department"].astype(str), sort=True)[["reviewers", "utilization",
                                                                         "files_waiting_mean"]].mean()
        for dept, r in means.iterrows():
            rows.append([cell(group), cell(dept), cell(format(float(r["reviewers"]), "g")),
                         cell(bare("county_reviewer_utilization_max", float(r["utilization"]))),
                         cell(bare("county_files_waiting_mean", float(r["files_waiting_mean"])))])
    if not rows:
        return P("No county department has a reviewer limit (county_reviewers) here: county reviews are delays "
                 "only.", "note")
    return TABLE(["scenario", "department", "reviewers", "reviewer utilisation", "files waiting for a reviewer"],
                 rows, "County departments with a reviewer limit: means over the replications (kpis_by_department; "
                 "no interval).", left=2)


def _route_table(source: Source, what: str) -> dict:
    """Cases by route, pooled over replications: their share, and trips or lead days."""
    cases = source.cases
    rows = []
    for group in source.groups:
        mine = cases[cases["group"] == group]
        total = float(mine["cases"].sum())
        routes = [r for r in ROUTE_NAMES if r in set(mine["route"])] + sorted(set(mine["route"]) - set(ROUTE_NAMES))
        for route in routes:
            part = mine[mine["route"] == route]
            count = float(part["cases"].sum())
            share = count / total if total else math.nan
            trips = part["trips"].to_numpy(float)
            weights = part["cases"].to_numpy(float)
            if what == "trips":
                one = float(weights[trips <= 1].sum() / count) if count else math.nan
                many = float(weights[trips >= 3].sum() / count) if count else math.nan
                mean = float((trips * weights).sum() / count) if count else math.nan
                rows.append([cell(group), cell(str(route)), cell(bare("completed_share", share)),
                             cell(bare("one_trip_rate", one)), cell(bare("trips_per_case", mean)),
                             cell(bare("one_trip_rate", many))])
            else:
                lead = part["lead_days_mean"].fillna(0).to_numpy(float)
                timed = part["lead_cases"].to_numpy(float) if "lead_cases" in part else weights
                mean = float((lead * timed).sum() / timed.sum()) if timed.sum() else math.nan
                rows.append([cell(group), cell(str(route)), cell(bare("completed_share", share)),
                             cell(bare("lead_days_mean", mean))])
    if what == "trips":
        return TABLE(["scenario", "route", "share of ended cases", "at most 1 trip", "trips per case",
                      "3 or more trips"], rows,
                     "Ended cases (completed, dropped or finished elsewhere) by route, pooled over the replications "
                     f"(no interval). Trips are counted up to {TRIP_BINS}: a case with more counts as {TRIP_BINS} in "
                     "the mean.", left=2)
    return TABLE(["scenario", "route", "share of ended cases", "mean lead time (working days)"], rows,
                 "Ended cases by route, pooled over the replications (no interval); the lead time is over those "
                 "completed (none for out-of-scope requests, redirected to the county).", left=2)


def _townships(source: Source, blocks: list) -> None:
    frame = source.by_township
    if frame is None or not len(frame):
        blocks.append(P("This results directory has no per-township table."))
        return
    kpis = [k for k in TOWNSHIP_KPIS if k in frame.columns]
    blocks.append(P(f"Headline KPIs per township: means over replications ({_n_text(source)}; the intervals are "
                    f"in the figure). Townships sorted by distance to the county seat; remote: at least {REMOTE_KM} km "
                    "(docs/kpis.md)."))
    for i, group in enumerate(source.groups):
        mine = frame[frame["group"] == group]
        towns_info = (source.scenarios.get(group) or {}).get("townships") or {}
        if not isinstance(towns_info, dict):
            towns_info = {}

        def km(town: str, towns_info: dict = towns_info) -> float:  # used in this iteration only
            info = towns_info.get(town)
            v = info.get("km_to_county") if isinstance(info, dict) else None
            return float(v) if isinstance(v, (int, float)) else math.nan

        towns = sorted({str(t) for t in mine["township"]}, key=lambda t: (math.isnan(km(t)), km(t) if km(t) == km(t)
                                                                          else 0, t))
        means = mine.groupby(mine["township"].astype(str))[kpis].mean()
        rows = []
        for town in towns:
            info = towns_info.get(town) if isinstance(towns_info.get(town), dict) else {}
            windows = info.get("windows")
            total = sum(v for v in windows.values() if isinstance(v, (int, float))) if isinstance(windows, dict) \
                else math.nan
            distance = km(town)
            name = str(info.get("name") or town)
            remote = distance == distance and distance >= REMOTE_KM
            row = [cell(name if name == town else f"{name} ({town})", cls="remote" if remote else ""),
                   cell("" if distance != distance else format(distance, "g")),
                   cell("" if total != total else format(total, "g"))]
            row += [cell(bare(k, float(means.loc[town, k]))) for k in kpis]
            rows.append(row)
        table = TABLE(["township", "km to county", "windows"] + [column(k) for k in kpis], rows,
                      "Mean over replications; in italics: remote townships.")
        title = group + (" (baseline)" if source.kind == "compare" and i == 0 and len(source.groups) > 1 else "")
        if source.kind == "sweep":
            title += f": {_factors_text(source.points.get(group, {}))}"
        blocks.append(DETAILS(title, [table], open_=i == 0))


def _assumptions(source: Source, blocks: list) -> None:
    blocks.append(H3("The model"))
    blocks.append(UL(list(ASSUMPTIONS)))
    blocks.append(H3("The data"))
    blocks.append(UL(list(DATA_NOTES)))
    if source.kind == "sweep":
        experiment = source.manifest.get("experiment", {})
        blocks.append(H3("The experiment"))
        blocks.append(DL([
            ("experiment", str(experiment.get("name", ""))),
            ("file", str(experiment.get("file", ""))),
            ("design", str(experiment.get("design", ""))),
            ("factors", ", ".join(str(f) for f in experiment.get("factors", []))),
            ("points", str(len(source.groups))),
        ]))
        blocks.append(P("Each point is the experiment's base scenario with its factor values; the points and "
                        "their resolved-scenario hashes are in the manifest section.", "note"))
        return
    blocks.append(H3("The scenarios"))
    rows, levers = [], []
    for group in source.groups:
        sc = source.scenarios.get(group)
        if not sc:
            rows.append([cell(group), cell("(resolved scenario not found)"), cell(""), cell(""), cell(""), cell("")])
            continue
        horizon = sc.get("horizon") or {}
        applied = sc.get("reforms_applied") or []
        names = [next(iter(r)) if isinstance(r, dict) and r else str(r) for r in applied]
        towns = sc.get("townships") or {}
        windows = sum(sum(v for v in (t.get("windows") or {}).values() if isinstance(v, (int, float)))
                      for t in towns.values() if isinstance(t, dict)) if isinstance(towns, dict) else 0
        sessions = (sc.get("calendar") or {}).get("sessions") or []
        rows.append([
            cell(group), cell(_description(sc) or "(no description)"),
            cell(f"{horizon.get('days', '?')} working days", f"from {horizon.get('start', '?')}; warm-up "
                 f"{horizon.get('warmup_days', 0)}, drain {horizon.get('drain_days', 0)}", "nowrap"),
            cell(", ".join("–".join(str(x) for x in s) for s in sessions if isinstance(s, (list, tuple))),
                 cls="nowrap"),
            cell(f"{len(towns)} townships", f"{windows:g} windows, {len(sc.get('items') or {})} items", "nowrap"),
            cell(", ".join(names) or "none"),
        ])
        for r in applied:
            if isinstance(r, dict):
                for lever, params in r.items():
                    levers.append([cell(group), cell(str(lever)),
                                   cell(json.dumps(params, sort_keys=True, ensure_ascii=False), cls="code")])
    blocks.append(TABLE(["scenario", "description", "horizon", "sessions", "size", "reforms applied"], rows,
                        "From each resolved scenario in this directory (scenario.resolved.yaml or "
                        "scenarios/NAME.resolved.yaml). Replications and seeds: see the manifest.", left=6))
    if levers:
        blocks.append(DETAILS("Reform lever parameters", [TABLE(["scenario", "lever", "parameters"], levers,
                                                                 "As applied (defaults filled in).", left=3)]))


def _manifest(source: Source, blocks: list) -> None:
    m = source.manifest
    git = m.get("git")
    git_text = "not run from a git checkout" if not isinstance(git, dict) else \
        f"{git.get('sha', '?')}{' (with local changes)' if git.get('dirty') else ''}"
    argv = m.get("argv") or []
    replications = m.get("replications")
    items = [
        ("tool", f"{m.get('tool', 'simcenter')} {m.get('version', '?')}"),
        ("git commit", git_text),
        ("command", shlex.join(["simcenter", *[str(a) for a in argv[1:]]]) if argv else ""),
        ("created (UTC)", str(m.get("created_utc", ""))),
        ("replications", json.dumps(replications, sort_keys=True) if isinstance(replications, dict)
         else str(replications)),
        ("seed scheme", str(m.get("seed_scheme", ""))),
        ("executor", str(m.get("executor", ""))),
        ("python", f"{m.get('python', '')} on {m.get('platform', '')}"),
        ("packages", ", ".join(f"{k} {v}" for k, v in sorted((m.get("packages") or {}).items()))),
    ]
    for key, name in (("common_random_numbers", "common random numbers"), ("comparison_method", "comparison")):
        if m.get(key):
            items.append((name, str(m[key])))
    if "seed" in m:
        items.append(("seed", str(m["seed"])))
    if "experiment" in m:
        e = m["experiment"]
        items.append(("experiment", f"{e.get('name', '')} ({e.get('file', '')}, sha256 {e.get('sha256', '')})"))
    if m.get("tasks"):
        items.append(("tasks", ", ".join(f"{k} {v}" for k, v in sorted(m["tasks"].items()))))
    if m.get("failed"):
        items.append(("failed points", "; ".join(f"point {k}: {v}" for k, v in sorted(m["failed"].items()))))
    blocks.append(DL(items))
    if m.get("scenarios"):
        rows = [[cell(str(s.get("name", ""))), cell(str(s.get("seed", ""))), cell(str(s.get("sha256", "")), cls="code")]
                for s in m["scenarios"] if isinstance(s, dict)]
        blocks.append(TABLE(["scenario", "seed", "resolved-scenario sha256"], rows,
                            "The sha256 is over the resolved scenario as canonical JSON.", left=3))
    if m.get("points"):
        rows = [[cell(f"point {p.get('point')}"), cell(_factors_text(p.get("factors") or {})),
                 cell(str(p.get("replications", ""))), cell(str(p.get("sha256", "")), cls="code")]
                for p in m["points"] if isinstance(p, dict)]
        blocks.append(TABLE(["point", "factors", "replications", "resolved-scenario sha256"], rows, "", left=4))


def _warnings(manifest: dict) -> list[str]:
    """The manifest's `warnings`: a list of lines (a single string is one line); absent: none."""
    lines = manifest.get("warnings") or []
    if isinstance(lines, str):
        lines = [lines]
    return [str(line) for line in lines if str(line).strip()] if isinstance(lines, list) else [str(lines)]


# --- figures --------------------------------------------------------------------------------------

def _figures(source: Source, sections: dict) -> None:
    from . import plots

    results = plots.load(source.path)
    for kind in plots.default_kinds(results):
        fig = plots.KINDS[kind](results, None)
        title = _figure_title(fig) or kind
        section = FIGURE_SECTION.get(kind, "comparison")
        sections[section].append({"type": "figure", "id": f"figure-{kind}", "title": title,
                                  "svg": _svg(fig, kind, title)})


def _figure_title(fig) -> str:
    try:
        return fig.get_suptitle()
    except AttributeError:  # matplotlib < 3.8
        return fig._suptitle.get_text() if fig._suptitle is not None else ""


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_ID = re.compile(r'\bid="([^"]+)"')
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'((?:xlink:)?href)="#([^"]+)"')


def _svg(fig, name: str, title: str):
    """The figure as inline SVG: no prolog, comment or metadata (they hold URLs), ids prefixed."""
    import matplotlib
    from markupsafe import Markup, escape

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": f"simcenter-{name}", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue().decode("utf-8")
    text = _PROLOG.sub("", text, count=1)
    text = _COMMENT.sub("", text)
    text = _METADATA.sub("", text)
    # inline SVG in HTML gets its namespaces from the parser; dropping them leaves no URL in the page
    head_end = text.index(">")
    text = _XMLNS.sub("", text[:head_end]) + text[head_end:]
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", name) + "-"
    text = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = _URL_REF.sub(lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = _HREF.sub(lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"', text)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
    return Markup(text.strip())


# --- rendering ------------------------------------------------------------------------------------

def _render(source: Source, sections: dict) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("simcenter", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    m = source.manifest
    if source.kind == "sweep":
        name = m.get("experiment", {}).get("name", "")
        title = f"Sweep {name}"
        subject = f"{len(source.groups)} points"
        hashes = f"experiment sha256 {str(m.get('experiment', {}).get('sha256', ''))[:12]}"
    elif source.kind == "compare":
        reforms = len(source.groups) - 1
        title = f"{source.groups[0]} against {reforms} reform{'s' if reforms != 1 else ''}" if reforms \
            else source.groups[0]
        subject = f"{len(source.groups)} scenarios"
        hashes = ("scenario sha256 " + ", ".join(str(s.get("sha256", ""))[:12] for s in m.get("scenarios", [])[:3])
                  + (", …" if len(m.get("scenarios", [])) > 3 else ""))
    else:
        title = source.groups[0]
        subject = "1 scenario"
        hashes = "scenario sha256 " + ", ".join(str(s.get("sha256", ""))[:12] for s in m.get("scenarios", []))
    seeds = sorted({str(s.get("seed")) for s in m.get("scenarios", []) if isinstance(s, dict)}) or \
        ([str(m["seed"])] if "seed" in m else [])
    replications = m.get("replications")
    footer = [
        f"{m.get('tool', 'simcenter')} {m.get('version', '?')}",
        f"{source.kind}, {subject}",
        f"seed {', '.join(seeds) or '?'}",
        f"{replications} replications" if not isinstance(replications, dict) else "replications: auto",
        hashes,
        f"created {m.get('created_utc', '?')}",
    ]
    return env.get_template("report.html.j2").render(
        csp=CSP, title=f"simcenter report: {title}", kind=source.kind, warnings=_warnings(m),
        sections=[{"id": key, "title": heading, "blocks": sections[key]} for key, heading in SECTIONS],
        footer=footer,
    )
