"""Reforms against the baseline (compare: paired differences), trips per case and the one-trip
rates (trips), lead times by route (lead-times)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..kpis import ROUTE_NAMES, TRIP_BINS, label
from ..resultsdir import ResultsDir
from .common import SHARE, all_townships_note, interval, n_text, need, scenarios_in, summary
from .style import BOUNDED, T_METHOD, difference_axis, figure, finish, headline, marker, palette, percent, subplot_grid, yerr


def compare(results: ResultsDir, township: str | None = None) -> Figure:
    """Each reform's paired difference from the baseline with its interval, one panel per headline KPI."""
    table = need(results, "comparison", "compare")
    level = results.comparison_level
    if township is not None:
        table = paired_by_township(results, "compare", [township])
    baseline, reforms = results.scenarios[0], results.reforms
    kpis = headline(table["kpi"].unique())
    fig = figure(12, math.ceil(len(kpis) / 4) * (1.3 + 0.3 * len(reforms)) + 1.3)
    axes = subplot_grid(fig, len(kpis), 4, sharey=True)
    for ax, kpi in zip(axes, kpis):
        rows = table[table["kpi"] == kpi].set_index("reform")
        for j, reform in enumerate(reforms):
            y = len(reforms) - 1 - j  # the first reform on top
            if reform not in rows.index:
                continue
            r = rows.loc[reform]
            d, low, high = float(r["difference"]), float(r["ci_low"]), float(r["ci_high"])
            xerr = None if math.isnan(low) else [[d - low], [high - d]]
            colour = palette(j + 1)["color"]
            ax.errorbar([d], [y], xerr=xerr, fmt=marker(j + 1), color=colour, ecolor=colour, capsize=3, ms=6,
                        markerfacecolor=colour if bool(r["significant"]) else "white", label=reform)
        ax.axvline(0, color="0.4", lw=0.8)
        difference_axis(ax, kpi)
        ax.set_yticks(range(len(reforms)))
        ax.set_yticklabels(list(reversed(reforms)), fontsize=8)
        ax.set_ylim(-0.6, len(reforms) - 0.4)
        ax.grid(axis="x", alpha=0.3)
    n = int(table["n"].max()) if len(table) else 0
    k = len(reforms)
    where = f" (township {township})" if township else ""
    return finish(fig, f"Reforms against the baseline {baseline}: paired differences{where}",
                   f"Each point: mean of reform − baseline over n = {n} paired replications (common random "
                   f"numbers); bar: paired t interval, Bonferroni across k = {k} reform{'s' if k != 1 else ''} "
                   f"(each at level {level:.4g}, all together 95%). Filled: the interval excludes 0; "
                   "open: it does not. Shares are in percentage points.")


def paired_by_township(results: ResultsDir, kind: str, townships: list[str] | None = None) -> pd.DataFrame:
    """comparison.csv's rows recomputed from kpis_by_township per township (same method: paired t at the
    comparison's level, reform − baseline by replication), with a `township` column; every township
    of the table, or those of `townships`, in that order."""
    from ..stats import paired_interval

    frame = need(results, "by_township", kind)
    towns = frame["township"].astype(str)
    level = results.comparison_level
    rows = []
    for town in townships if townships is not None else list(dict.fromkeys(towns)):
        mine = frame[towns == town]
        baseline = mine[mine["scenario"] == results.scenarios[0]].set_index("replication")
        for reform in results.reforms:
            other = mine[mine["scenario"] == reform].set_index("replication")
            paired = sorted(set(baseline.index) & set(other.index))
            for kpi in headline(frame.columns):
                d, low, high, n = paired_interval(other.loc[paired, kpi].to_numpy(float),
                                                  baseline.loc[paired, kpi].to_numpy(float), level)
                rows.append({"township": town, "reform": reform, "kpi": kpi, "difference": d, "ci_low": low,
                             "ci_high": high, "n": n, "significant": bool(low > 0 or high < 0)})
    return pd.DataFrame(rows, columns=["township", "reform", "kpi", "difference", "ci_low", "ci_high", "n",
                                       "significant"])

# --- trips and lead times ----------------------------------------------------------------------

def _trip_bins(cases: pd.DataFrame) -> list[int]:
    """0 to 5 trips (the last bin is 5 or more), and any higher bin the table has."""
    return sorted(set(range(TRIP_BINS + 1)) | {int(t) for t in cases["trips"].unique()})


def trips(results: ResultsDir, township: str | None = None) -> Figure:
    """Share of cases by number of trips, and the one-trip rates, per scenario."""
    cases = need(results, "cases_summary", "trips")
    kpis = results.tables.get("kpis")
    scenarios = scenarios_in(results, cases)
    bins = _trip_bins(cases)
    top = max(bins) if bins else 0
    fig = figure(11, 4.6)
    left, right = fig.subplots(1, 2, width_ratios=[1.4, 1])
    width = 0.8 / max(len(scenarios), 1)
    for i, scenario in enumerate(scenarios):
        mine = cases[cases["scenario"] == scenario]
        per_rep = mine.pivot_table(index="replication", columns="trips", values="cases", aggfunc="sum",
                                   fill_value=0).reindex(columns=bins, fill_value=0)
        shares = per_rep.div(per_rep.sum(axis=1).where(lambda s: s > 0), axis=0)
        stats = [interval(shares[b].to_numpy(float), bounds=SHARE) for b in bins]
        mean = np.array([s[0] for s in stats])
        err = yerr(stats)
        offset = (i - (len(scenarios) - 1) / 2) * width
        style = palette(i)
        left.bar(np.arange(len(bins)) + offset, mean, width * 0.95, yerr=err, capsize=2,
                 color=style["color"], edgecolor="black", linewidth=0.4, label=scenario,
                 error_kw={"elinewidth": 0.8, "ecolor": "0.3"})
    left.set_xticks(range(len(bins)))
    left.set_xticklabels([f"{b}+" if b == top and top >= TRIP_BINS else str(b) for b in bins])
    left.set_xlabel("trips to an office per case (count)")
    left.set_ylabel("share of ended cases")
    percent(left)
    left.set_title("Trips per case", fontsize=10, loc="left")
    left.grid(axis="y", alpha=0.3)
    rates = [k for k in ("one_trip_rate", "one_trip_rate_official", "zero_trip_rate")
             if kpis is not None and k in kpis]
    for i, scenario in enumerate(scenarios):
        if not rates:
            break
        stats = [summary(results, scenario, k) for k in rates]
        offset = (i - (len(scenarios) - 1) / 2) * min(0.15, 0.8 / max(len(scenarios), 1))
        right.errorbar(np.arange(len(rates)) + offset, [s[0] for s in stats], yerr=yerr(stats), fmt=marker(i),
                       capsize=3, color=palette(i)["color"], label=scenario)
    right.set_xticks(range(len(rates)))
    right.set_xticklabels(["\n".join(textwrap.wrap(label(k), 14, break_on_hyphens=False)) for k in rates], fontsize=8)
    right.set_xlim(-0.5, len(rates) - 0.5)
    right.set_ylim(0, 1.02)
    percent(right)
    right.set_ylabel("share of ended cases")
    right.set_title("Run-at-most-once rates", fontsize=10, loc="left")
    right.grid(axis="y", alpha=0.3)
    if len(scenarios) > 1:
        left.legend(fontsize=8)
        right.legend(fontsize=8)
    return finish(fig, "Trips per case",
                   f"Ended cases in scope (completed, given up or finished elsewhere); bars and points: mean over "
                   f"replications, whiskers: {T_METHOD} "
                   f"({n_text(cases)}; {BOUNDED}). A trip is a visit to a township or county "
                   f"office; mail, agents and online handling make zero-trip cases. The last bin is {top} or more trips. "
                   "Official one-trip rate: trips from the acceptance of complete documents to the result."
                   + all_townships_note(township))


def lead_times(results: ResultsDir, township: str | None = None) -> Figure:
    """Mean lead days by route (immediate / township / county), a bar per scenario with its interval."""
    cases = need(results, "cases_summary", "lead-times")
    scenarios = scenarios_in(results, cases)
    timed = cases["lead_cases"] if "lead_cases" in cases else cases["cases"]  # older results: all completed
    frame = cases.assign(weighted=cases["lead_days_mean"].fillna(0) * timed, timed=timed)
    with_lead = set(frame.loc[frame["timed"] > 0, "route"])  # out-of-scope requests have no lead time here
    routes = [r for r in ROUTE_NAMES if r in with_lead] + sorted(with_lead - set(ROUTE_NAMES))
    fig = figure(8, 4.8)
    ax = fig.subplots()
    width = 0.8 / max(len(scenarios), 1)
    for i, scenario in enumerate(scenarios):
        mine = frame[frame["scenario"] == scenario].groupby(["route", "replication"])[["weighted", "timed"]].sum()
        per_rep = mine["weighted"] / mine["timed"].where(mine["timed"] > 0)
        stats = [interval(per_rep.xs(r, level="route").to_numpy(float), "lead_days_mean")
                 if r in per_rep.index.get_level_values(0) else (math.nan, math.nan, math.nan, 0) for r in routes]
        offset = (i - (len(scenarios) - 1) / 2) * width
        style = palette(i)
        ax.bar(np.arange(len(routes)) + offset, [s[0] for s in stats], width * 0.95, yerr=yerr(stats),
               capsize=3, color=style["color"], edgecolor="black", linewidth=0.4, label=scenario,
               error_kw={"elinewidth": 0.8, "ecolor": "0.3"})
    shares = _route_shares(cases, scenarios[0] if scenarios else None, routes)
    ax.set_xticks(range(len(routes)))
    ax.set_xticklabels([f"{r}\n({s:.0%} of cases)" if np.isfinite(s) else r for r, s in zip(routes, shares)])
    ax.set_xlabel("route of the case" + (f" (share of ended cases in {scenarios[0]})" if scenarios else ""))
    ax.set_ylabel("mean lead time (working days)")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    if len(scenarios) > 1:
        ax.legend(fontsize=8)
    return finish(fig, "Lead time by route: first visit to result in hand",
                   f"Completed cases in scope, mean lead time in working days per replication, then the mean "
                   f"over replications; whiskers: {T_METHOD} ({n_text(cases)}; {BOUNDED}). Out-of-scope requests "
                   "(redirected to the county) have no lead time here." + all_townships_note(township))


def _route_shares(cases: pd.DataFrame, scenario: str | None, routes: list[str]) -> list[float]:
    mine = cases[cases["scenario"] == scenario].groupby("route")["cases"].sum()
    total = mine.sum()
    return [float(mine.get(r, 0) / total) if total else math.nan for r in routes]



