"""The report's sections other than the findings: the comparison tables of a run, a comparison and
a sweep, then the sections every report has (waits, run at most once, lead times, resources,
townships, assumptions and data, manifest). Which KPIs each table shows is listed here; their
labels, units and directions are the KPI catalogue's (`simcenter.kpis`)."""

from __future__ import annotations

import json
import math
import shlex

from ..kpis import HEADLINE, REMOTE_KM, ROUTE_NAMES, TRIP_BINS
from ..resultsdir import ResultsDir
from .findings import excludes_zero, is_significant
from .notes import data_notes
from .render import DETAILS, DL, H3, P, TABLE, UL, cell
from .wording import CLIPPED, bare, column, description_of, difference, factors_text, interval, label, level_text, plain, \
    replications_text, value

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

COMMON = (  # section, its introduction, the KPIs of its table
    ("waits",
     "Waits run from ticket to call, over served visits; visits that balked, reneged or were "
     "sent home at closing count in the share not served, not in the waits. 15 minutes is the "
     "service-level target marked in the figures.",
     WAITS),
    ("run-at-most-once",
     "Over every case created after the warm-up that ended: completed, given up, or finished elsewhere after "
     "abandoning a queue. Strict one-trip rate: at most one in-person trip (county hall included) from first "
     "contact to result in hand, or to giving up; official rate: the official definition's count, from the "
     "trip on which complete documents were accepted to the result (cases never accepted, e.g. out of scope, "
     "are left out); zero-trip cases are handled by village agents or the mobile service.",
     TRIPS),
    ("lead-times",
     "Lead time: working days from the first visit to the result in the citizen's hands, "
     "over completed cases. Decision time is the official clock, from acceptance to "
     "decision (restarted by a re-submission); on time: decision time within the item's "
     "promised days. Files in progress: time-average files in township back offices and at "
     "the county; files waiting: those of them waiting for a reviewer.",
     LEADS),
    ("resources",
     "Window utilisation: busy minutes over open minutes, per window, then the mean over "
     "windows (and the busiest window). Reviewer utilisation: busy seat-minutes over seats × "
     "open minutes, per office with a reviewer limit. Staff-hours over the measured period: "
     "windows' scheduled time (lunch windows through lunch) plus their overtime, township "
     "reviewers and county reviewers over the open time.",
     RESOURCES),
)

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
    "sessions applies to every working day; seasonal hours, holidays and make-up working days are not modelled.",
    "Confidence intervals are Student t over independent replications, never over the correlated visits "
    "inside one run. Reforms are compared with the baseline replication by replication, on the same "
    "simulated citizens (common random numbers). " + CLIPPED,
)


def kpi_table(results: ResultsDir, kpis, caption: str = "") -> dict:
    """Groups × KPIs: the mean, and below it the 95% interval."""
    kpis = [k for k in kpis if k in results.kpi_names()]
    rows = []
    for group in results.groups:
        row = [cell(group)]
        for kpi in kpis:
            mean, low, high, _ = results.stat(group, kpi)
            row.append(cell(bare(kpi, mean), interval(kpi, low, high)))
        rows.append(row)
    n = replications_text(results)
    return TABLE(["scenario" if results.kind != "sweep" else "point"] + [column(k) for k in kpis], rows,
                 caption or f"Mean over replications and, below it, its 95% Student t interval ({n}).")


def run(results: ResultsDir, s: dict) -> None:
    """A run's comparison section: every KPI of its scenario."""
    group = results.groups[0]
    rows = []
    for kpi in results.kpi_names():
        mean, low, high, count = results.stat(group, kpi)
        rows.append([cell(label(kpi)), cell(kpi, cls="code"), cell(value(kpi, mean)),
                     cell(interval(kpi, low, high)), cell(str(count))])
    s["comparison"] += [
        P(f"Every KPI of {group} (definitions: docs/kpis.md in the simcenter source)."),
        TABLE(["KPI", "column", "mean", "95% interval", "n"], rows,
              "Mean over replications and its 95% Student t interval; n: replications with a value.", left=2),
    ]


def compare(results: ResultsDir, s: dict) -> None:
    """A comparison's comparison section: the headline table, then every KPI of every reform."""
    manifest = results.manifest
    baseline = results.groups[0]
    rows = {(r["reform"], r["kpi"]): r for r in results.rows("comparison")}
    level = results.comparison_level
    head = ["scenario"] + [column(k) for k in HEADLINE if k in results.kpi_names()]
    table = []
    for group in results.groups:
        row = [cell(group + (" (baseline)" if group == baseline else ""))]
        for kpi in HEADLINE:
            if kpi not in results.kpi_names():
                continue
            mean, low, high, _ = results.stat(group, kpi)
            r = rows.get((group, kpi))
            if group == baseline or r is None:
                row.append(cell(bare(kpi, mean), interval(kpi, low, high)))
                continue
            d, lo, hi = difference(kpi, float(r["difference"]), float(r["ci_low"]), float(r["ci_high"]), short=True)
            sub = f"{d} [{lo}, {hi}]" if lo != "n/a" else d
            row.append(cell(bare(kpi, float(r["reform_mean"])), sub, "sig" if is_significant(r) else ""))
        table.append(row)
    comparison = s["comparison"]
    comparison.append(P(
        "Headline KPIs per scenario. Baseline: mean and its 95% Student t interval. Reforms: mean, and below it "
        f"the difference from the baseline with its paired t interval at the {level_text(level)} level; in bold "
        "where the interval excludes 0."))
    comparison.append(TABLE(head, table, f"{replications_text(results)}; {manifest.get('comparison_method', '')}".rstrip("; ")))
    every = []
    for r in results.rows("comparison"):
        kpi = r["kpi"]
        d, lo, hi = difference(kpi, float(r["difference"]), float(r["ci_low"]), float(r["ci_high"]), short=True)
        every.append([cell(str(r["reform"])), cell(column(kpi)), cell(bare(kpi, float(r["baseline_mean"]))),
                      cell(bare(kpi, float(r["reform_mean"]))), cell(d, cls="sig" if is_significant(r) else ""),
                      cell("" if lo == "n/a" else f"[{lo}, {hi}]"), cell(str(int(r["n"])))])
    if every:
        comparison.append(DETAILS(f"Every KPI, every reform ({len(every)} rows, as in comparison.csv)", [TABLE(
            ["reform", "KPI", "baseline mean", "reform mean", "difference", f"{level_text(level)} interval", "n"],
            every, "Difference = reform − baseline, paired by replication; in bold where the interval excludes 0. "
            "Shares are in percent and their differences in percentage points.", left=2)]))


def sweep(results: ResultsDir, s: dict) -> None:
    """A sweep's comparison section: points × headline KPIs, then the factor effects."""
    effects = results.rows("effects")
    head = ["point"] + results.factors + [column(k) for k in HEADLINE if k in results.kpi_names()]
    rows = []
    for group in results.groups:
        factors = results.points.get(group, {})
        row = [cell(group)] + [cell(plain(factors.get(f, ""))) for f in results.factors]
        for kpi in HEADLINE:
            if kpi in results.kpi_names():
                mean, low, high, _ = results.stat(group, kpi)
                row.append(cell(bare(kpi, mean), interval(kpi, low, high)))
        rows.append(row)
    s["comparison"].append(P("Headline KPIs at every point: mean over replications and, below it, its 95% Student t "
                             "interval."))
    s["comparison"].append(TABLE(head, rows, replications_text(results), left=1 + len(results.factors)))
    if effects:
        effect_rows = []
        for e in effects:
            kpi = e["kpi"]
            d, lo, hi = difference(kpi, float(e["estimate"]), float(e["ci_low"]), float(e["ci_high"]), short=True)
            effect_rows.append([cell(column(kpi)), cell(str(e["effect"])), cell(str(int(e.get("order", 1)))),
                                cell(d, cls="sig" if excludes_zero(e) else ""),
                                cell("" if lo == "n/a" else f"[{lo}, {hi}]"), cell(str(int(e.get("n", 0))))])
        s["comparison"].append(TABLE(["KPI", "effect", "order", "estimate", "95% interval", "n"], effect_rows,
                                     "Effects as in effects.csv: mean response at the high level minus at the low "
                                     "level, within each replication, with a Student t interval; in bold where it "
                                     "excludes 0.", left=2))


def common_sections(results: ResultsDir, s: dict) -> None:
    """The sections every report has: an introduction and a table of KPIs each, then the tables of
    cases by route and of county departments where the directory has them, then the townships."""
    for key, text, kpis in COMMON:
        s[key] += [P(text), kpi_table(results, kpis)]
    cases = results.table("cases_summary")
    if cases is not None and len(cases):
        s["run-at-most-once"].append(route_table(results, "trips"))
        s["lead-times"].append(route_table(results, "lead"))
    departments = results.table("by_department")
    if departments is not None and len(departments):
        s["resources"].append(department_table(results))
    townships(results, s["townships"])


def department_table(results: ResultsDir) -> dict:
    """County departments with a reviewer limit: utilisation and files waiting, means over replications."""
    frame = results.table("by_department")
    rows = []
    for group in results.groups:
        mine = frame[(frame["group"] == group) & frame["reviewers"].notna()]
        means = mine.groupby(mine["department"].astype(str), sort=True)[["reviewers", "utilization",
                                                                         "files_waiting_mean"]].mean()
        for dept, r in means.iterrows():
            name = results.department_name(dept, group)
            rows.append([cell(group), cell(dept if name == dept else f"{name} ({dept})"),
                         cell(format(float(r["reviewers"]), "g")),
                         cell(bare("county_reviewer_utilization_max", float(r["utilization"]))),
                         cell(bare("county_files_waiting_mean", float(r["files_waiting_mean"])))])
    if not rows:
        return P("No county department has a reviewer limit (county_reviewers) here: county reviews are delays "
                 "only.", "note")
    return TABLE(["scenario", "department", "reviewers", "reviewer utilisation", "files waiting for a reviewer"],
                 rows, "County departments with a reviewer limit: means over the replications (kpis_by_department; "
                 "no interval).", left=2)


def route_table(results: ResultsDir, what: str) -> dict:
    """Cases by route, pooled over replications: their share, and trips or lead days."""
    cases = results.table("cases_summary")
    rows = []
    for group in results.groups:
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


def townships(results: ResultsDir, blocks: list) -> None:
    frame = results.table("by_township")
    if frame is None or not len(frame):
        blocks.append(P("This results directory has no per-township table."))
        return
    kpis = [k for k in TOWNSHIP_KPIS if k in frame.columns]
    blocks.append(P(f"Headline KPIs per township: means over replications ({replications_text(results)}; the intervals are "
                    f"in the figure). Townships sorted by distance to the county seat; remote: at least {REMOTE_KM} km "
                    "(docs/kpis.md)."))
    for i, group in enumerate(results.groups):
        mine = frame[frame["group"] == group]
        towns_info = (results.resolved.get(group) or {}).get("townships") or {}
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
        title = group + (" (baseline)" if results.kind == "compare" and i == 0 and len(results.groups) > 1 else "")
        if results.kind == "sweep":
            title += f": {factors_text(results.points.get(group, {}))}"
        blocks.append(DETAILS(title, [table], open_=i == 0))


def assumptions(results: ResultsDir, blocks: list) -> None:
    blocks.append(H3("The model"))
    blocks.append(UL(list(ASSUMPTIONS)))
    blocks.append(H3("The data"))
    blocks.append(UL(data_notes(results)))
    if results.kind == "sweep":
        experiment = results.manifest.get("experiment", {})
        blocks.append(H3("The experiment"))
        blocks.append(DL([
            ("experiment", str(experiment.get("name", ""))),
            ("file", str(experiment.get("file", ""))),
            ("design", str(experiment.get("design", ""))),
            ("factors", ", ".join(str(f) for f in experiment.get("factors", []))),
            ("points", str(len(results.groups))),
        ]))
        blocks.append(P("Each point is the experiment's base scenario with its factor values; the points and "
                        "their resolved-scenario hashes are in the manifest section.", "note"))
        return
    blocks.append(H3("The scenarios"))
    rows, levers = [], []
    for group in results.groups:
        sc = results.resolved.get(group)
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
            cell(group), cell(description_of(sc) or "(no description)"),
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


def manifest_section(results: ResultsDir, blocks: list) -> None:
    m = results.manifest
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
        rows = [[cell(f"point {p.get('point')}"), cell(factors_text(p.get("factors") or {})),
                 cell(str(p.get("replications", ""))), cell(str(p.get("sha256", "")), cls="code")]
                for p in m["points"] if isinstance(p, dict)]
        blocks.append(TABLE(["point", "factors", "replications", "resolved-scenario sha256"], rows, "", left=4))
