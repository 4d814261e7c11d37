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
from .common import SHARE, all_townships_note, interval, many, n_text, need, scenarios_in, style_index, summary, \
    town_label
from .style import reference, BOUNDED, MAX_SERIES, T_METHOD, bar_style, difference_axis, figure, finish, headline, legend, \
    percent, point_style, subplot_grid, yerr


def compare(results: ResultsDir, township: str | None = None, kpis: list[str] | None = None) -> Figure:
    """Each reform's paired difference from the baseline with its interval, one panel per headline KPI
    (or per KPI of `kpis`). More reforms than a panel holds: two series, intervals excluding 0 or not."""
    table = need(results, "comparison", "compare")
    level = results.comparison_level
    if township is not None:
        table = paired_by_township(results, "compare", [township], kpis)
    baseline, reforms = results.scenarios[0], results.reforms
    kpis = [k for k in kpis if k in set(table["kpi"])] if kpis else headline(table["kpi"].unique())
    fig = figure(12 if len(kpis) > 2 else 5 * len(kpis) + 2,
                 math.ceil(len(kpis) / 4) * (1.3 + 0.3 * len(reforms)) + 1.3)
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
            if len(reforms) > MAX_SERIES:  # the reforms are named on the y axis; two series: significant or not
                significant = bool(r["significant"])
                style, name = point_style(0 if significant else 1), "interval excludes 0" if significant else \
                    "interval includes 0"
            else:
                style, name = point_style(style_index(results, reform)), reform
            ax.errorbar([d], [y], xerr=xerr, capsize=3, ms=6, label=name, **style,
                        markerfacecolor=style["color"] if bool(r["significant"]) else "white")
        reference(ax.axvline(0, color="0.4", lw=0.8))
        difference_axis(ax, kpi)
        ax.set_yticks(range(len(reforms)))
        ax.set_yticklabels(list(reversed(reforms)), fontsize=8)
        ax.set_ylim(-0.6, len(reforms) - 0.4)
        ax.grid(axis="x", alpha=0.3)
    if len(reforms) > MAX_SERIES:
        legend(axes[0])
    n = int(table["n"].max()) if len(table) else 0
    k = results.compared or len(reforms)
    where = f" (township {town_label(results, township)})" if township else ""
    return finish(fig, f"Reforms against the baseline {baseline}: paired differences{where}",
                   f"Each point: mean of reform − baseline over n = {n} paired replications (common random "
                   f"numbers); bar: paired t interval, Bonferroni across k = {k} reform{'s' if k != 1 else ''} "
                   f"(each at level {level:.4g}, all together 95%). Filled: the interval excludes 0; "
                   "open: it does not. Shares are in percentage points.")


def paired_by_township(results: ResultsDir, kind: str, townships: list[str] | None = None,
                       kpis: list[str] | None = None) -> pd.DataFrame:
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
            for kpi in [k for k in kpis if k in frame] if kpis else headline(frame.columns):
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
    """Share of cases by number of trips, and the one-trip rates, per scenario. More scenarios than a
    panel holds: scenarios along x, a series per number of trips (stacked) and per rate."""
    cases = need(results, "cases_summary", "trips")
    kpis = results.tables.get("kpis")
    scenarios = scenarios_in(results, cases)
    bins = _trip_bins(cases)
    top = max(bins) if bins else 0
    crowded = many(results, cases)
    fig = figure(13 if crowded else 11, 5.4 if crowded else 4.6)
    left, right = fig.subplots(1, 2, width_ratios=[1.4, 1])
    names = [f"{b}+" if b == top and top >= TRIP_BINS else str(b) for b in bins]
    shares = {s: _trip_shares(cases, s, bins) for s in scenarios}
    rates = [k for k in ("one_trip_rate", "one_trip_rate_official", "zero_trip_rate")
             if kpis is not None and k in kpis]
    if crowded:
        _trips_by_scenario(results, left, right, scenarios, shares, names, rates)
    else:
        _trips_by_bin(results, left, right, scenarios, shares, names, rates)
    left.set_ylabel("share of ended cases")
    percent(left)
    left.set_title("Trips per case", fontsize=10, loc="left")
    left.grid(axis="y", alpha=0.3)
    right.set_ylim(0, 1.02)
    percent(right)
    right.set_ylabel("share of ended cases")
    right.set_title("Run-at-most-once rates", fontsize=10, loc="left")
    right.grid(axis="y", alpha=0.3)
    if len(scenarios) > 1:
        legend(left, title="trips per case" if crowded else None)
    bars = "stacked bars: mean shares" if crowded else "bars and points: mean"
    return finish(fig, "Trips per case",
                   f"Ended cases in scope (completed, given up or finished elsewhere); {bars} over "
                   f"replications, whiskers: {T_METHOD} "
                   f"({n_text(cases)}; {BOUNDED}). A trip is a visit to a township or county "
                   f"office; mail, agents and online handling make zero-trip cases. The last bin is {top} or more trips. "
                   "Official one-trip rate: trips from the acceptance of complete documents to the result."
                   + all_townships_note(township))


def _trip_shares(cases: pd.DataFrame, scenario: str, bins: list[int]) -> list[tuple]:
    """Per trip bin: the mean share of the scenario's ended cases, its interval and n."""
    mine = cases[cases["scenario"] == scenario]
    per_rep = mine.pivot_table(index="replication", columns="trips", values="cases", aggfunc="sum",
                               fill_value=0).reindex(columns=bins, fill_value=0)
    shares = per_rep.div(per_rep.sum(axis=1).where(lambda s: s > 0), axis=0)
    return [interval(shares[b].to_numpy(float), bounds=SHARE) for b in bins]


def _trips_by_bin(results, left, right, scenarios, shares, names, rates) -> None:
    """A few scenarios: bars grouped by number of trips, points grouped by rate; a series per scenario."""
    width = 0.8 / max(len(scenarios), 1)
    for i, scenario in enumerate(scenarios):
        stats = shares[scenario]
        offset = (i - (len(scenarios) - 1) / 2) * width
        left.bar(np.arange(len(names)) + offset, [s[0] for s in stats], width * 0.95, yerr=yerr(stats), capsize=2,
                 edgecolor="black", linewidth=0.4, label=scenario, error_kw={"elinewidth": 0.8, "ecolor": "0.3"},
                 **bar_style(style_index(results, scenario)))
        if rates:
            stats = [summary(results, scenario, k) for k in rates]
            offset = (i - (len(scenarios) - 1) / 2) * min(0.15, 0.8 / max(len(scenarios), 1))
            right.errorbar(np.arange(len(rates)) + offset, [s[0] for s in stats], yerr=yerr(stats), capsize=3,
                           label=scenario, **point_style(style_index(results, scenario)))
    left.set_xticks(range(len(names)))
    left.set_xticklabels(names)
    left.set_xlabel("trips to an office per case (count)")
    right.set_xticks(range(len(rates)))
    right.set_xticklabels(["\n".join(textwrap.wrap(label(k), 14, break_on_hyphens=False)) for k in rates], fontsize=8)
    right.set_xlim(-0.5, len(rates) - 0.5)


def _trips_by_scenario(results, left, right, scenarios, shares, names, rates) -> None:
    """Many scenarios: scenarios along x; stacked shares by number of trips, a point series per rate."""
    x = np.arange(len(scenarios))
    bottom = np.zeros(len(scenarios))
    for b, name in enumerate(names):
        height = np.nan_to_num([shares[s][b][0] for s in scenarios])
        left.bar(x, height, 0.8, bottom=bottom, edgecolor="black", linewidth=0.3, label=name, **bar_style(b))
        bottom += height
    for k, rate in enumerate(rates):
        stats = [summary(results, s, rate) for s in scenarios]
        offset = (k - (len(rates) - 1) / 2) * 0.2
        right.errorbar(x + offset, [s[0] for s in stats], yerr=yerr(stats), capsize=2, ms=4, label=label(rate),
                       **point_style(len(names) + k))
    for ax in (left, right):
        ax.set_xticks(x)
        ax.set_xticklabels(scenarios, rotation=90, fontsize=7)
        ax.set_xlabel("scenario")
        ax.set_xlim(-0.6, len(scenarios) - 0.4)


def lead_times(results: ResultsDir, township: str | None = None) -> Figure:
    """Mean lead days by route (immediate / township / county), a bar per scenario with its interval.
    More scenarios than a panel holds: scenarios along x, a series per route."""
    cases = need(results, "cases_summary", "lead-times")
    scenarios = scenarios_in(results, cases)
    timed = cases["lead_cases"] if "lead_cases" in cases else cases["cases"]  # older results: all completed
    frame = cases.assign(weighted=cases["lead_days_mean"].fillna(0) * timed, timed=timed)
    with_lead = set(frame.loc[frame["timed"] > 0, "route"])  # out-of-scope requests have no lead time here
    routes = [r for r in ROUTE_NAMES if r in with_lead] + sorted(with_lead - set(ROUTE_NAMES))
    stats = {s: _lead_stats(frame, s, routes) for s in scenarios}
    shares = _route_shares(cases, scenarios[0] if scenarios else None, routes)
    route_names = [f"{r}\n({s:.0%} of cases)" if np.isfinite(s) else r for r, s in zip(routes, shares)]
    crowded = many(results, cases)
    fig = figure(12 if crowded else 8.5, 5.4 if crowded else 4.8)
    ax = fig.subplots()
    series = routes if crowded else scenarios
    groups = scenarios if crowded else routes
    width = 0.8 / max(len(series), 1)
    for i, name in enumerate(series):
        row = [stats[g][i] for g in groups] if crowded else stats[name]
        offset = (i - (len(series) - 1) / 2) * width
        ax.bar(np.arange(len(groups)) + offset, [s[0] for s in row], width * 0.95, yerr=yerr(row), capsize=3,
               edgecolor="black", linewidth=0.4, label=name, error_kw={"elinewidth": 0.8, "ecolor": "0.3"},
               **bar_style(i if crowded else style_index(results, name)))
    ax.set_xticks(range(len(groups)))
    if crowded:
        ax.set_xticklabels(scenarios, rotation=90, fontsize=7)
        ax.set_xlabel("scenario")
    else:
        ax.set_xticklabels(route_names)
        ax.set_xlabel("route of the case" + (f" (share of ended cases in {scenarios[0]})" if scenarios else ""))
    ax.set_ylabel("mean lead time (working days)")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    if len(series) > 1:
        legend(ax, title="route" if crowded else None)
    return finish(fig, "Lead time by route: first visit to result in hand",
                   f"Completed cases in scope, mean lead time in working days per replication, then the mean "
                   f"over replications; whiskers: {T_METHOD} ({n_text(cases)}; {BOUNDED}). Out-of-scope requests "
                   "(redirected to the county) have no lead time here." + all_townships_note(township))


def _lead_stats(frame: pd.DataFrame, scenario: str, routes: list[str]) -> list[tuple]:
    mine = frame[frame["scenario"] == scenario].groupby(["route", "replication"])[["weighted", "timed"]].sum()
    per_rep = mine["weighted"] / mine["timed"].where(mine["timed"] > 0)
    return [interval(per_rep.xs(r, level="route").to_numpy(float), "lead_days_mean")
            if r in per_rep.index.get_level_values(0) else (math.nan, math.nan, math.nan, 0) for r in routes]


def _route_shares(cases: pd.DataFrame, scenario: str | None, routes: list[str]) -> list[float]:
    mine = cases[cases["scenario"] == scenario].groupby("route")["cases"].sum()
    total = mine.sum()
    return [float(mine.get(r, 0) / total) if total else math.nan for r in routes]



