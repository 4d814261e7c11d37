"""Waiting at the centre: the share served within x minutes (waits), waits and queue by clock hour
(by-hour), window utilization by group and hour (utilization)."""

from __future__ import annotations

import math

import numpy as np
import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..kpis import WAIT_BINS, label
from ..resultsdir import ResultsDir
from .common import COUNT, MANY, all_townships_note, clipped, interval, many, n_text, need, scenarios_in, \
    style_index, summary, town_label, town_order
from .style import reference, BOUNDED, CLOSED, HEATMAP, MAX_SERIES, T_METHOD, figure, finish, hour_ticks, legend, line_style, \
    palette, percent, subplot_grid


TARGETS = (15, 30)  # wait targets, minutes
MAX_MINUTE = WAIT_BINS - 1  # wait_histogram: minute WAIT_BINS means "more than MAX_MINUTE"


def waits(results: ResultsDir, township: str | None = None) -> Figure:
    """ECDF of the waits per scenario from wait_histogram: share served within x minutes. More
    scenarios than a panel holds: one panel per reform, the baseline against it."""
    hist = need(results, "wait_histogram", "waits")
    kpis = results.tables.get("kpis")
    scenarios = scenarios_in(results, hist)
    curves = {s: _ecdf(hist, s) for s in scenarios}
    reach = max([c[2] for c in curves.values()] + [35])
    panels = [scenarios] if not many(results, hist) else [[scenarios[0], s] for s in scenarios[1:]]
    fig = figure(7.5 + 2.5 * (len(panels) > 1) + 0.04 * max(map(len, scenarios)), 4.8 if len(panels) == 1
                 else 2.6 * math.ceil(len(panels) / 4) + 1.6)
    axes = subplot_grid(fig, len(panels), 4, sharex=True, sharey=True)
    for ax, shown in zip(axes, panels):
        for scenario in shown:
            x, share, _ = curves[scenario]
            ax.plot(x, share, label=_within_label(results, scenario, kpis, share), lw=1.8,
                    **line_style(style_index(results, scenario), markers=False))
        for target, style in zip(TARGETS, ("--", ":")):
            reference(ax.axvline(target, color="0.45", lw=1, linestyle=style, label=f"{target}-minute target"))
        ax.set_xlim(0, min(MAX_MINUTE + 1, math.ceil(reach / 5) * 5))
        ax.set_ylim(0, 1.02)
        percent(ax)
        ax.grid(alpha=0.3)
        if len(panels) > 1:
            ax.set_title(f"{shown[0]} vs {shown[1]}", fontsize=8.5, loc="left")
    for ax in axes[-4:]:
        ax.set_xlabel("wait from ticket to call, x (minutes)", fontsize=8)
    axes[0].set_ylabel("share of visits served within x minutes", fontsize=8)
    legend(axes[0], below=len(panels) > 1, columns=3 if len(panels) > 1 else 1)
    served = [f"{s} {int(hist.loc[hist['scenario'] == s, 'count'].sum()):,}" for s in scenarios]
    return finish(fig, "Waiting time at the window: share served within x minutes",
                   f"Empirical CDF of the waits of served visits, pooled over the replications "
                   f"({n_text(hist)}; served visits: {', '.join(served)}). In the legend: the share served "
                   f"within 15 minutes, mean and {T_METHOD} ({BOUNDED}). Visits that balked or reneged "
                   f"are not waits (see abandon_share); waits above {MAX_MINUTE} minutes are counted but off the axis."
                   + all_townships_note(township))


def _ecdf(hist: pd.DataFrame, scenario: str) -> tuple[np.ndarray, np.ndarray, int]:
    """x (whole minutes), the share served within x, and the minute by which 98% are served."""
    x = np.arange(0, MAX_MINUTE + 2)  # P(wait < x) is known exactly at whole minutes
    counts = (hist[hist["scenario"] == scenario].groupby("minute")["count"].sum()
              .reindex(range(0, MAX_MINUTE + 2), fill_value=0).to_numpy(float))
    total = counts.sum()
    share = np.concatenate([[0.0], np.cumsum(counts)])[: len(x)] / total if total else np.full(len(x), np.nan)
    reach = int(np.argmax(share >= 0.98)) + 1 if total and np.any(share >= 0.98) else MAX_MINUTE + 1
    return x, share, reach


def _within_label(results: ResultsDir, scenario: str, kpis: pd.DataFrame | None, share: np.ndarray) -> str:
    if kpis is not None and "served_within_15_share" in kpis:
        mean, low, high, _ = summary(results, scenario, "served_within_15_share")
    elif kpis is not None and "wait_over_15_share" in kpis:  # results of an older version
        over, low, high, n = results.stat(scenario, "wait_over_15_share")
        mean, low, high, _ = clipped("served_within_15_share", 1 - over, 1 - high, 1 - low, n)
    else:
        return f"{scenario}: {share[TARGETS[0]]:.0%} within 15 min (pooled)"
    ci = "" if math.isnan(low) else f" [{low:.0%}, {high:.0%}]"
    return f"{scenario}: {mean:.0%}{ci} within 15 min"

# --- by hour ----------------------------------------------------------------------------------

def _hourly(results: ResultsDir, township: str | None, kind: str) -> pd.DataFrame:
    frame = need(results, "by_hour", kind)
    if township is not None:
        frame = frame[frame["township"].astype(str) == township]
    return frame


def _open_hours(frame: pd.DataFrame) -> tuple[list[int], set[int]]:
    """The clock hours worth showing (open or busy, with an hour either side) and those closed."""
    by_hour = frame.groupby("hour").agg(open=("open_minutes", "max"), arrivals=("arrivals", "sum"),
                                        waits=("wait_mean", "count"))
    active = by_hour.index[(by_hour["open"] > 0) | (by_hour["arrivals"] > 0) | (by_hour["waits"] > 0)]
    if len(active) == 0:
        return list(range(24)), set(range(24))
    hours = list(range(max(0, int(active.min()) - 1), min(23, int(active.max()) + 1) + 1))
    opened = set(by_hour.index[by_hour["open"] > 0].astype(int))
    return hours, {h for h in hours if h not in opened}


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    keep = values.notna()
    v, w = values[keep].to_numpy(float), weights[keep].to_numpy(float)
    if len(v) == 0:
        return math.nan
    return float(np.average(v, weights=w)) if w.sum() > 0 else float(v.mean())


def by_hour(results: ResultsDir, township: str | None = None) -> Figure:
    """Mean and p90 wait and queue length by clock hour, a line per scenario and a 95% t band."""
    frame = _hourly(results, township, "by-hour")
    hours, closed = _open_hours(frame)
    towns = frame["township"].nunique()

    def per_replication(g: pd.DataFrame) -> pd.Series:
        queue = g.groupby("township")["queue_mean"].sum(min_count=1)  # people waiting in each centre
        return pd.Series({"wait_mean": _weighted(g["wait_mean"], g["arrivals"]),
                          "wait_p90": _weighted(g["wait_p90"], g["arrivals"]),
                          "queue": float(queue.mean()) if queue.notna().any() else math.nan})

    rows = frame.groupby(["scenario", "replication", "hour"])[["township", "wait_mean", "wait_p90", "arrivals",
                                                               "queue_mean"]].apply(per_replication).reset_index()
    if many(results, rows):
        return _by_hour_per_reform(results, frame, rows, hours, closed, township)
    panels = (("wait_mean", label("wait_mean", with_unit=True)), ("wait_p90", label("wait_p90", with_unit=True)),
              ("queue", "people waiting\n(time average)" if township or towns == 1
               else "people waiting per centre\n(time average)"))
    banded = len(scenarios_in(results, rows)) <= MANY  # many scenarios: the baseline's band only
    fig = figure(9.5, 8)
    axes = fig.subplots(3, 1, sharex=True)
    for scenario in scenarios_in(results, rows):
        for ax, (column, _) in zip(axes, panels):
            _hour_line(ax, results, rows, scenario, column, hours, band=banded or scenario == results.scenarios[0])
    for ax, (_, ylabel) in zip(axes, panels):
        _hour_axis(ax, ylabel, closed)
    axes[-1].set_xlim(hours[0], hours[-1] + 1)
    hour_ticks(axes[-1], hours + [hours[-1] + 1])
    axes[-1].set_xlabel("clock hour (waits: of the visits called in the hour; queue: over the hour)")
    legend(axes[0], extra=[Patch(color=CLOSED, label="closed")])
    band = "" if banded else " for the first scenario only"
    over = "window groups and townships" if towns > 1 else "window groups"
    return finish(fig, f"Waits and queue by hour of the day ({_where(results, township, towns)})",
                   f"Each point: the mean over replications of the hour's value on an average day; band: "
                   f"{T_METHOD} ({n_text(frame)}; {BOUNDED}){band}. Waits of visits called in the hour, averaged over {over} "
                   "weighted by their arrivals in the hour (a p90 of each group, not of the pooled waits). "
                   "Grey: closed hours (no window group's session open).")


def _where(results: ResultsDir, township: str | None, towns: int) -> str:
    return f"township {town_label(results, township)}" if township else ("all townships" if towns > 1 else "the centre")


def _hour_line(ax, results: ResultsDir, rows: pd.DataFrame, scenario: str, column: str, hours: list[int],
               band: bool) -> None:
    """A scenario's mean by clock hour (drawn at the hour's middle), with its 95% band."""
    mine = rows[rows["scenario"] == scenario]
    stats = [interval(mine.loc[mine["hour"] == h, column].to_numpy(float), bounds=COUNT) for h in hours]
    mean, low, high = (np.array([s[j] for s in stats]) for j in range(3))
    mid = np.array(hours) + 0.5
    i = style_index(results, scenario)
    ax.plot(mid, mean, label=scenario, **line_style(i))
    if band and np.isfinite(low).any():
        ax.fill_between(mid, low, high, color=palette(i)["color"], alpha=0.2, linewidth=0)


def _hour_axis(ax, ylabel: str, closed: set[int]) -> None:
    for h in closed:
        ax.axvspan(h, h + 1, color=CLOSED, zorder=0, linewidth=0)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)


def _by_hour_per_reform(results: ResultsDir, frame: pd.DataFrame, rows: pd.DataFrame, hours: list[int],
                        closed: set[int], township: str | None) -> Figure:
    """Many scenarios: one panel per reform, its mean wait by hour against the baseline's."""
    scenarios = scenarios_in(results, rows)
    baseline, reforms = scenarios[0], scenarios[1:]
    fig = figure(13, 2.5 * math.ceil(len(reforms) / 4) + 1.8)
    axes = subplot_grid(fig, len(reforms), 4, sharex=True, sharey=True)
    for ax, reform in zip(axes, reforms):
        for scenario in (baseline, reform):
            _hour_line(ax, results, rows, scenario, "wait_mean", hours, band=True)
        _hour_axis(ax, "", closed)
        ax.set_title(f"{baseline} vs {reform}", fontsize=8.5, loc="left")
        ax.set_xlim(hours[0], hours[-1] + 1)
        ax.set_xticks([h for h in hours if h % 2 == 0])
        ax.set_xticklabels([f"{h:02d}" for h in hours if h % 2 == 0], fontsize=7)
    for ax in axes[-4:]:
        ax.set_xlabel("clock hour (of the call)", fontsize=8)
        ax.tick_params(axis="x", labelbottom=True)
    axes[0].set_ylabel(label("wait_mean", with_unit=True), fontsize=8)
    legend(axes[0], extra=[Patch(color=CLOSED, label="closed")], columns=4, below=True)
    towns = frame["township"].nunique()
    return finish(fig, f"Mean wait by hour of the day, each reform against {baseline} "
                       f"({_where(results, township, towns)})",
                   f"{len(scenarios)} scenarios: one panel per reform (at most {MAX_SERIES} series a panel); the "
                   "90th-percentile wait and the queue by hour are drawn for at most "
                   f"{MAX_SERIES} scenarios (plot --scenario NAME...). Each point: the mean over replications of the "
                   f"hour's mean wait on an average day, weighted by arrivals over window groups; band: {T_METHOD} "
                   f"({n_text(frame)}; {BOUNDED}). Grey: closed hours.")

# --- utilization ------------------------------------------------------------------------------

def utilization(results: ResultsDir, township: str | None = None) -> Figure:
    """Window group × clock hour heatmap of utilization (busy share of open time), one panel per scenario."""
    frame = _hourly(results, township, "utilization")
    hours, _ = _open_hours(frame)
    hours = [h for h in hours if frame.loc[frame["hour"] == h, "open_minutes"].max() > 0] or hours
    scenarios = scenarios_in(results, frame)
    by_town = township is None and len(frame[["scenario", "township", "group"]].drop_duplicates()) <= 80

    def row_names(mine: pd.DataFrame) -> list[str]:  # a scenario's rows: reforms may change the groups
        pairs = mine[["township", "group"]].drop_duplicates().astype(str)
        if not by_town:
            return sorted(pairs["group"].unique())
        return [f"{t} · {g}" for t, g in sorted(pairs.itertuples(index=False, name=None),
                                                key=lambda p: (town_order(results, p[0]), p[1]))]

    def readable(row: str, scenario: str) -> str:  # "Lingxi · G2 (Civil Affairs Bureau +2)"
        town, _, group = row.rpartition(" · ")
        name = town_label(results, town, short=len(scenarios) > 3)
        return (f"{name} · " if town else "") + results.window_group_label(group, scenario, short=True)

    rows_of = {s: row_names(frame[frame["scenario"] == s]) for s in scenarios}
    most = max((len(r) for r in rows_of.values()), default=1)
    cmap = matplotlib.colormaps[HEATMAP].with_extremes(bad=CLOSED)
    annotate = most * len(hours) <= 240
    columns = 1 if len(scenarios) <= 3 else 3  # many scenarios: a grid of panels, rows shared
    rows = math.ceil(len(scenarios) / columns)
    panel = (0.55 * len(hours) + (1.6 if columns == 1 else 0.9), 0.28 * most + 0.9)
    fig = figure(max(6.5, columns * panel[0] + 2.2), rows * panel[1] + 1.4)
    axes = subplot_grid(fig, len(scenarios), columns, sharex=True)
    image = None
    for k, (ax, scenario) in enumerate(zip(axes, scenarios)):
        mine = frame[frame["scenario"] == scenario].copy()
        names = rows_of[scenario]
        mine["row"] = mine["township"].astype(str) + " · " + mine["group"].astype(str) if by_town \
            else mine["group"].astype(str)
        # per replication: each row's hour (open-time weighted over townships when rows are groups)
        mine["busy"] = mine["utilization"] * mine["open_minutes"]
        cells = mine.groupby(["row", "hour"])[["busy", "open_minutes"]].sum(min_count=1)
        grid = (cells["busy"] / cells["open_minutes"].where(cells["open_minutes"] > 0)).unstack("hour")
        grid = grid.reindex(index=names, columns=hours)
        values = grid.to_numpy(float)
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto",
                          interpolation="nearest")
        image.set_gid(f"utilization-{k}")  # equal panels (a reform that changes nothing) would share an SVG id
        ax.set_xticks(range(len(hours)))
        ax.set_xticklabels([f"{h:02d}" for h in hours], fontsize=8)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels([readable(n, scenario) for n in names], fontsize=8)
        if k % columns == 0:
            ax.set_ylabel("township · window group" if by_town else "window group")
        if k >= len(scenarios) - columns:
            ax.set_xlabel("clock hour (hh:00 to hh:59)")
            ax.tick_params(axis="x", labelbottom=True)
        ax.set_title(scenario, fontsize=10, loc="left")
        if annotate:
            for (r, c), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=6.5,
                            color="white" if v < 0.55 else "black")
    bar = fig.colorbar(image, ax=list(axes), shrink=1.0 if rows == 1 else 0.4, aspect=20 if rows == 1 else 30)
    bar.set_label("utilization (share of open window time busy)")
    where = f"township {town_label(results, township)}" if township else "all townships"
    aggregated = "" if by_town or township else (
        " Rows are window groups: the mean over townships weighted by open time (not by the number of windows); "
        "use --township ID for one centre.")
    return finish(fig, f"Window utilization by hour ({where})",
                   f"Busy share of the open time of the group's windows in each clock hour, mean over the "
                   f"replications ({n_text(frame)}); fixed scale 0–1. Grey: closed." + aggregated)



