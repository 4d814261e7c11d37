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
from .common import COUNT, MANY, all_townships_note, clipped, interval, n_text, need, scenarios_in, summary, town_order
from .style import BOUNDED, CLOSED, HEATMAP, T_METHOD, figure, finish, hour_ticks, legend, line_style, palette, percent, \
    subplot_grid


TARGETS = (15, 30)  # wait targets, minutes
MAX_MINUTE = WAIT_BINS - 1  # wait_histogram: minute WAIT_BINS means "more than MAX_MINUTE"


def waits(results: ResultsDir, township: str | None = None) -> Figure:
    """ECDF of the waits per scenario from wait_histogram: share served within x minutes."""
    hist = need(results, "wait_histogram", "waits")
    kpis = results.tables.get("kpis")
    many = len(scenarios_in(results, hist)) > MANY
    fig = figure(11 if many else 7.5, 4.8)
    ax = fig.subplots()
    x = np.arange(0, MAX_MINUTE + 2)  # P(wait < x) is known exactly at whole minutes
    reach = 35
    served = []
    for i, scenario in enumerate(scenarios_in(results, hist)):
        counts = (hist[hist["scenario"] == scenario].groupby("minute")["count"].sum()
                  .reindex(range(0, MAX_MINUTE + 2), fill_value=0).to_numpy(float))
        total = counts.sum()
        served.append(f"{scenario} {int(total):,}")
        share = np.concatenate([[0.0], np.cumsum(counts)])[: len(x)] / total if total else np.full(len(x), np.nan)
        if total and np.any(share >= 0.98):
            reach = max(reach, int(np.argmax(share >= 0.98)) + 1)
        else:
            reach = MAX_MINUTE + 1
        ax.plot(x, share, label=_within_label(results, scenario, kpis, share), lw=1.8, **line_style(i, markers=False))
    for target, style in zip(TARGETS, ("--", ":")):
        ax.axvline(target, color="0.45", lw=1, linestyle=style, label=f"{target}-minute target")
    ax.set_xlim(0, min(MAX_MINUTE + 1, math.ceil(reach / 5) * 5))
    ax.set_ylim(0, 1.02)
    percent(ax)
    ax.set_xlabel("wait from ticket to call, x (minutes)")
    ax.set_ylabel("share of visits served within x minutes")
    ax.grid(alpha=0.3)
    legend(ax, many, loc="lower right")
    return finish(fig, "Waiting time at the window: share served within x minutes",
                   f"Empirical CDF of the waits of served visits, pooled over the replications "
                   f"({n_text(hist)}; served visits: {', '.join(served)}). In the legend: the share served "
                   f"within 15 minutes, mean and {T_METHOD} ({BOUNDED}). Visits that balked or reneged "
                   f"are not waits (see abandon_share); waits above {MAX_MINUTE} minutes are counted but off the axis."
                   + all_townships_note(township))


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
    panels = (("wait_mean", label("wait_mean", with_unit=True)), ("wait_p90", label("wait_p90", with_unit=True)),
              ("queue", "people waiting\n(time average)" if township or towns == 1
               else "people waiting per centre\n(time average)"))
    many = len(scenarios_in(results, rows)) > MANY
    fig = figure(11 if many else 8, 8)
    axes = fig.subplots(3, 1, sharex=True)
    for i, scenario in enumerate(scenarios_in(results, rows)):
        mine = rows[rows["scenario"] == scenario]
        for ax, (column, _) in zip(axes, panels):
            stats = [interval(mine.loc[mine["hour"] == h, column].to_numpy(float), bounds=COUNT) for h in hours]
            mean, low, high = (np.array([s[j] for s in stats]) for j in range(3))
            mid = np.array(hours) + 0.5  # a clock hour's value is drawn at its middle
            ax.plot(mid, mean, label=scenario, **line_style(i))
            if np.isfinite(low).any() and (i == 0 or not many):  # many scenarios: the baseline's band only
                ax.fill_between(mid, low, high, color=palette(i)["color"], alpha=0.2, linewidth=0)
    for ax, (_, ylabel) in zip(axes, panels):
        for h in closed:
            ax.axvspan(h, h + 1, color=CLOSED, zorder=0, linewidth=0)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[-1].set_xlim(hours[0], hours[-1] + 1)
    hour_ticks(axes[-1], hours + [hours[-1] + 1])
    axes[-1].set_xlabel("clock hour (waits: of the visits called in the hour; queue: over the hour)")
    handles, labels = axes[0].get_legend_handles_labels()
    legend(axes[0], many, handles + [Patch(color=CLOSED, label="closed")], labels + ["closed"], loc="upper right")
    where = f"township {township}" if township else ("all townships" if towns > 1 else "the centre")
    band = " for the first scenario only" if many else ""
    over = "window groups and townships" if towns > 1 else "window groups"
    return finish(fig, f"Waits and queue by hour of the day ({where})",
                   f"Each point: the mean over replications of the hour's value on an average day; band: "
                   f"{T_METHOD} ({n_text(frame)}; {BOUNDED}){band}. Waits of visits called in the hour, averaged over {over} "
                   "weighted by their arrivals in the hour (a p90 of each group, not of the pooled waits). "
                   "Grey: closed hours (no window group's session open).")

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
        name = str(results.townships.get(town, {}).get("name") or town)
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
    where = f"township {township}" if township else "all townships"
    aggregated = "" if by_town or township else (
        " Rows are window groups: the mean over townships weighted by open time (not by the number of windows); "
        "use --township ID for one centre.")
    return finish(fig, f"Window utilization by hour ({where})",
                   f"Busy share of the open time of the group's windows in each clock hour, mean over the "
                   f"replications ({n_text(frame)}); fixed scale 0–1. Grey: closed." + aggregated)



