"""`simcenter plot`: every kind on small real results (run, compare, sweep), the files, the figures'
axes, labels and series (matplotlib objects, not pixels), byte-identical saves, and CLI errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from simcenter import kpis as catalogue
from simcenter.cli import main
from builders import DATA, SMALL, invoke, results_dirs

plots = pytest.importorskip("simcenter.plots")
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADLINE = list(catalogue.HEADLINE_FIGURES)  # tests/test_kpis.py: the report's headline but the on-time rate
SVG_KINDS = ["--kind", "compare", "--kind", "waits", "--kind", "utilization"]
RUN_KINDS = ["waits", "by-hour", "utilization", "trips", "lead-times", "townships"]



@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    """Real results: a run (west made remote), a compare of two reforms, a 2 × 2 sweep, a 2 × 2 × 2 sweep."""
    base = tmp_path_factory.mktemp("plots")
    (base / "copy.yaml").write_text(f"extends: {SMALL}\nname: small-copy\n", encoding="utf-8")
    (base / "more.yaml").write_text(f"extends: {SMALL}\nname: small-more\n"
                                    "townships: {east: {windows: {G1: 2}}}\n", encoding="utf-8")
    (base / "three.yaml").write_text(
        f"name: three\nbase: {SMALL}\ndesign: grid\nfactors:\n  behaviour.mail_share: [0.0, 0.5]\n"
        "  reforms.coordination: [off, on]\n  townships.east.windows.G1: [1, 2]\nreplications: 2\nchunk: 2\n"
        "kpis: [wait_mean, one_trip_rate]\n"
        'sets: ["horizon.days=3", "horizon.warmup_days=1", "horizon.drain_days=4"]\n', encoding="utf-8")
    commands = {
        "run": ["run", SMALL, "-r", 3, "--set", "townships.west.km_to_county=45"],
        "compare": ["compare", SMALL, base / "copy.yaml", base / "more.yaml", "-r", 3],
        "sweep": ["sweep", DATA / "sweep_grid.yaml"],
        "sweep3": ["sweep", base / "three.yaml"],
    }
    return results_dirs(base, commands)


@pytest.fixture(scope="module")
def loaded(dirs):
    return {name: plots.load(path) for name, path in dirs.items()}


@pytest.fixture(scope="module")
def written(dirs):
    """Every default kind of every directory as PNG, and three kinds of the compare as SVG, through the CLI."""
    out = {}
    for name in ("run", "sweep", "compare"):
        result = invoke("plot", dirs[name])
        assert result.exit_code == 0, result.stderr
        out[name, "png"] = [Path(line) for line in result.stdout.splitlines()]
    result = invoke("plot", dirs["compare"], "--format", "svg", *SVG_KINDS)
    assert result.exit_code == 0, result.stderr
    out["compare", "svg"] = [Path(line) for line in result.stdout.splitlines()]
    return out


# --- loading and default kinds ----------------------------------------------------------------

def test_the_directory_kind_and_default_kinds(loaded):
    assert loaded["run"].kind == "run" and loaded["run"].scenarios == ["small"]
    assert loaded["compare"].kind == "compare"
    assert loaded["compare"].scenarios == ["small", "small-copy", "small-more"]
    assert loaded["compare"].reforms == ["small-copy", "small-more"]
    assert loaded["sweep"].kind == "sweep"
    assert plots.default_kinds(loaded["run"]) == RUN_KINDS
    assert plots.default_kinds(loaded["compare"]) == ["compare", "township-effects"] + RUN_KINDS
    assert plots.default_kinds(loaded["sweep"]) == ["sweep"]
    assert loaded["run"].townships["west"]["km_to_county"] == 45
    assert loaded["run"].townships["east"]["km_to_county"] == 0


def test_the_cli_kinds_are_the_modules_kinds():
    command = main.commands["plot"]
    kind = next(p for p in command.params if p.name == "kinds")
    assert list(kind.type.choices) == list(plots.KINDS)


@pytest.mark.slow  # every figure of three directories through the CLI: the full suite runs it
def test_every_kind_is_written_as_png_and_svg(dirs, written):
    for (name, fmt), paths in written.items():
        expected = plots.default_kinds(plots.load(dirs[name])) if fmt == "png" else SVG_KINDS[1::2]
        assert [p.name for p in paths] == [f"{kind}.{fmt}" for kind in expected]
        for path in paths:
            assert path.parent == dirs[name] / "figures" and path.is_file()
            data = path.read_bytes()
            if fmt == "png":
                assert data[:8] == PNG_SIGNATURE, path
            else:
                root = ET.fromstring(data)
                assert root.tag == "{http://www.w3.org/2000/svg}svg", path
                assert b"<text" in data  # svg.fonttype none: text stays text
        assert not list((dirs[name] / "figures").glob(".*.tmp"))  # atomic writes leave nothing behind


def test_saving_twice_gives_the_same_bytes(loaded, tmp_path):
    fig = plots.KINDS["by-hour"](loaded["compare"], None)
    for fmt in ("png", "svg"):
        plots.save(fig, tmp_path / f"a.{fmt}", fmt)
        plots.save(fig, tmp_path / f"b.{fmt}", fmt)
        a, b = (tmp_path / f"a.{fmt}").read_bytes(), (tmp_path / f"b.{fmt}").read_bytes()
        if fmt == "svg":  # the salt is the file's stem: save under one name into two folders
            (tmp_path / "x").mkdir(exist_ok=True)
            plots.save(fig, tmp_path / "x" / f"a.{fmt}", fmt)
            b = (tmp_path / "x" / f"a.{fmt}").read_bytes()
        assert a == b, fmt
    again = plots.KINDS["by-hour"](loaded["compare"], None)  # drawn again from the same data
    plots.save(again, tmp_path / "x" / "a.png", "png")
    assert (tmp_path / "x" / "a.png").read_bytes() == (tmp_path / "a.png").read_bytes()


@pytest.mark.slow  # every figure of three directories through the CLI: the full suite runs it
def test_svgs_of_different_figures_share_no_referenced_id(written):
    """Inlined in one HTML page, a marker or clip path id used by two figures would collide."""
    def referenced(path):
        text = path.read_text(encoding="utf-8")
        defined = set(re.findall(r'\bid="([^"]+)"', text))
        used = set(re.findall(r'url\(#([^)]+)\)', text)) | set(re.findall(r'href="#([^"]+)"', text))
        return defined & used

    ids = [referenced(p) for p in written["compare", "svg"]]
    assert all(ids)
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            assert not ids[i] & ids[j], (written["compare", "svg"][i], written["compare", "svg"][j])


# --- each kind's figure -----------------------------------------------------------------------

def texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.texts)


def legend_texts(fig) -> list[str]:
    """The figure's legend (outside the panels: no axes has one)."""
    assert not any(ax.get_legend() for ax in fig.axes)
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts()]


def caption(fig) -> str:
    return fig._supxlabel.get_text()


def assert_common(fig, n: int, method: str = "95% Student t over replications"):
    assert fig._suptitle is not None and fig._suptitle.get_text()
    words = " ".join(texts(fig).split())
    assert f"n = {n} " in words, words
    assert method in words, words


def test_waits(loaded):
    results = loaded["compare"]
    fig = plots.waits(results)
    (ax,) = fig.axes
    assert len(ax.lines) == 3 + 2  # one ECDF per scenario, the 15 and 30 minute targets
    assert ax.get_xlabel() == "wait from ticket to call, x (minutes)"
    assert "share of visits served within x minutes" in ax.get_ylabel()
    assert [line.get_label() for line in ax.lines[3:]] == ["15-minute target", "30-minute target"]
    assert [line.get_xdata()[0] for line in ax.lines[3:]] == [15, 30]
    labels = legend_texts(fig)
    assert labels[0].startswith("small: ") and "within 15 min" in labels[0] and len(labels) == 5
    assert_common(fig, 3)
    # the curve is the cumulative share of the histogram: P(wait < 15 min) from the counts
    hist = results.tables["wait_histogram"]
    mine = hist[hist["scenario"] == "small"]
    expected = mine.loc[mine["minute"] < 15, "count"].sum() / mine["count"].sum()
    x, y = ax.lines[0].get_data()
    assert y[list(x).index(15)] == pytest.approx(expected)
    assert np.all(np.diff(y) >= 0) and y[0] == 0 and y[-1] <= 1


def test_by_hour(loaded):
    fig = plots.by_hour(loaded["compare"])
    axes = fig.axes
    assert len(axes) == 3
    assert [ax.get_ylabel().split("\n")[0] for ax in axes] == ["mean wait (minutes)", "90th-percentile wait (minutes)",
                                                               "people waiting per centre"]
    assert axes[1].get_ylabel() == catalogue.label("wait_p90", with_unit=True)
    assert "clock hour" in axes[-1].get_xlabel()
    for ax in axes:
        assert len(ax.lines) == 3  # a line per scenario
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 3  # a band per scenario
        assert len(ax.patches) >= 2  # closed hours shaded (before opening, lunch, after closing)
    assert legend_texts(fig) == ["small", "small-copy", "small-more", "closed"]
    assert_common(fig, 3)
    # lunch (12:00-14:00) is shaded: small.yaml's sessions are 08:30-11:30 and 14:00-17:30
    spans = {round(p.get_x()) for p in axes[0].patches}
    assert {12, 13} <= spans and not spans & {8, 9, 10, 11, 14, 15, 16, 17}


def test_by_hour_for_one_township_uses_only_its_rows(loaded):
    results = loaded["run"]
    fig = plots.by_hour(results, "east")
    assert "township east" in fig._suptitle.get_text()
    frame = results.tables["by_hour"]
    east = frame[(frame["township"] == "east") & (frame["hour"] == 9)]
    per_rep = east.groupby("replication")["queue_mean"].sum()
    x, y = fig.axes[2].lines[0].get_data()
    assert y[list(x).index(9.5)] == pytest.approx(per_rep.mean())
    assert fig.axes[2].get_ylabel().startswith("people waiting\n")


def test_utilization(loaded):
    results = loaded["compare"]
    fig = plots.utilization(results)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 3 and len(fig.axes) == 4  # a heatmap per scenario and one colour bar
    for ax, scenario in zip(panels, results.scenarios):
        (image,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
        assert image.get_clim() == (0, 1)
        assert image.get_cmap().name.startswith("cividis")
        assert ax.get_title(loc="left") == scenario
        g1, g2 = "G1 (Human Resources and Social Security)", "G2 (Civil Affairs)"  # groups by their departments' names
        assert [t.get_text() for t in ax.get_yticklabels()] == [f"east · {g1}", f"east · {g2}", f"west · {g1}",
                                                                 f"west · {g2}"]
    assert "clock hour" in panels[-1].get_xlabel()
    assert "utilization" in fig.axes[-1].get_ylabel()
    assert_common(fig, 3, "mean over the replications")
    # one cell: the mean over replications of the table's value
    frame = results.tables["by_hour"]
    cell = frame[(frame["scenario"] == "small") & (frame["township"] == "east") & (frame["group"] == "G1")
                 & (frame["hour"] == 9)]["utilization"].mean()
    (image,) = [a for a in panels[0].get_children() if isinstance(a, AxesImage)]
    hours = [int(t.get_text()) for t in panels[-1].get_xticklabels()]  # the bottom panel (x shared)
    assert image.get_array()[0, hours.index(9)] == pytest.approx(cell)
    assert 12 not in hours and 13 not in hours  # closed hours left out


def test_utilization_for_one_township(loaded):
    fig = plots.utilization(loaded["run"], "west")
    (panel,) = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [t.get_text() for t in panel.get_yticklabels()] == ["G1 (Human Resources and Social Security)",
                                                               "G2 (Civil Affairs)"]
    assert panel.get_ylabel() == "window group"


def test_compare(loaded):
    results = loaded["compare"]
    fig = plots.compare(results)
    assert len(fig.axes) == len(HEADLINE)
    table = results.tables["comparison"]
    for ax, kpi in zip(fig.axes, HEADLINE):
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == 2  # one errorbar per reform
        assert [c.get_label() for c in bars] == ["small-copy", "small-more"]
        assert ax.get_xlabel().startswith("reform − baseline (")
        assert ax.get_title() == catalogue.label(kpi)
        row = table[(table["kpi"] == kpi) & (table["reform"] == "small-more")].iloc[0]
        assert bars[1].lines[0].get_xdata()[0] == pytest.approx(row["difference"])
    assert "(percentage points)" in fig.axes[HEADLINE.index("one_trip_rate")].get_xlabel()
    assert "(minutes)" in fig.axes[0].get_xlabel()
    assert fig.axes[HEADLINE.index("trips_per_case")].get_xlabel() == "reform − baseline (trips)"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["small-more", "small-copy"]
    assert_common(fig, 3, "paired t interval, Bonferroni across k = 2 reforms")
    # the copy of the baseline meets the same citizens: a zero difference
    copy_wait = table[(table["kpi"] == "wait_mean") & (table["reform"] == "small-copy")].iloc[0]
    assert copy_wait["difference"] == 0


def test_compare_for_one_township_recomputes_the_paired_intervals(loaded):
    from simcenter.stats import bonferroni_level, paired_interval

    results = loaded["compare"]
    fig = plots.compare(results, "east")
    town = results.tables["by_township"]
    town = town[town["township"] == "east"]
    b = town[town["scenario"] == "small"].sort_values("replication")["served_within_15_share"].to_numpy(float)
    x = town[town["scenario"] == "small-more"].sort_values("replication")["served_within_15_share"].to_numpy(float)
    d, low, high, _ = paired_interval(x, b, bonferroni_level(2))
    bars = [c for c in fig.axes[1].containers if isinstance(c, ErrorbarContainer)]
    assert bars[1].lines[0].get_xdata()[0] == pytest.approx(d)
    segment = bars[1].lines[2][0].get_segments()[0]
    assert sorted(segment[:, 0]) == pytest.approx([low, high])
    assert "township east" in fig._suptitle.get_text()


def test_trips(loaded):
    results = loaded["compare"]
    fig = plots.trips(results)
    left, right = fig.axes
    assert sum(isinstance(c, BarContainer) for c in left.containers) == 3  # bars per scenario
    assert [t.get_text() for t in left.get_xticklabels()] == ["0", "1", "2", "3", "4", "5+"]
    assert left.get_xlabel() == "trips to an office per case (count)"
    assert left.get_ylabel() == right.get_ylabel() == "share of ended cases"
    assert sum(isinstance(c, ErrorbarContainer) for c in right.containers) == 3  # the rates per scenario
    assert [t.get_text() for t in right.get_xticklabels()] == ["strict\none-trip rate", "official\none-trip rate",
                                                              "zero-trip rate"]  # the catalogue's labels
    assert legend_texts(fig) == results.scenarios
    assert_common(fig, 3)
    # the one-trip rate point is the mean of the KPI over replications
    kpis = results.tables["kpis"]
    rate = [c for c in right.containers if isinstance(c, ErrorbarContainer)][0].lines[0].get_ydata()[0]
    assert rate == pytest.approx(kpis.loc[kpis["scenario"] == "small", "one_trip_rate"].mean())
    # the bars of a scenario add up to the whole (shares of its cases)
    first = [c for c in left.containers if isinstance(c, BarContainer)][0]
    assert sum(p.get_height() for p in first.patches) == pytest.approx(1)


def test_lead_times(loaded):
    results = loaded["compare"]
    fig = plots.lead_times(results)
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 3 and all(len(b.patches) == 3 for b in bars)  # scenario × route
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["immediate", "township", "county"]
    assert ax.get_ylabel() == "mean lead time (working days)"
    assert legend_texts(fig) == results.scenarios
    assert_common(fig, 3)
    cases = results.tables["cases_summary"]
    county = cases[(cases["scenario"] == "small-more") & (cases["route"] == "county")]
    per_rep = county.groupby("replication").apply(
        lambda g: (g["lead_days_mean"].fillna(0) * g["lead_cases"]).sum() / g["lead_cases"].sum(), include_groups=False)
    assert bars[2].patches[2].get_height() == pytest.approx(per_rep.mean())


def test_townships(loaded):
    results = loaded["run"]
    fig = plots.townships(results)
    assert len(fig.axes) == len(HEADLINE)
    for ax, kpi in zip(fig.axes, HEADLINE):
        assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 1  # one scenario
        assert len(ax.patches) == 1  # the remote township shaded
        assert ax.get_title() == catalogue.label(kpi)
        assert ax.get_ylabel() == catalogue.unit(kpi)
    assert fig.axes[0].get_ylabel() == "minutes"
    assert "remote (≥ 30 km)" in legend_texts(fig)
    for ax in fig.axes[-4:]:  # the bottom row (the x axis is shared)
        assert ax.get_xlabel() == "township (km to county)"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["east (0)", "west (45)"]  # near, then remote
    assert_common(fig, 3)
    compared = plots.townships(loaded["compare"])
    assert all(sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 3 for ax in compared.axes)
    assert not any(ax.patches for ax in compared.axes)  # no township of small.yaml is remote


def test_sweep(loaded):
    results = loaded["sweep"]
    fig = plots.sweep(results)
    kpis = list(dict.fromkeys(results.tables["summary"]["kpi"]))
    assert len(fig.axes) == len(kpis)
    for ax, kpi in zip(fig.axes, kpis):
        assert len(ax.lines) == 2  # a line per level of reforms.coordination
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
        assert ax.get_ylabel() == catalogue.unit(kpi)
    for ax in fig.axes[-4:]:  # the bottom row (the x axis is shared)
        assert ax.get_xlabel() == "townships.east.windows.G1"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2"]
    assert fig.legends[0].get_title().get_text() == "reforms.coordination"
    assert legend_texts(fig) == ["off", "on"]
    assert_common(fig, 4)
    # a point of the plot is the point's mean in summary.csv
    summary = results.tables["summary"]
    row = summary[(summary["kpi"] == kpis[0]) & (summary["point"] == 2)].iloc[0]  # G1 = 2, coordination off
    x, y = fig.axes[0].lines[0].get_data()
    assert y[list(x).index(2.0)] == pytest.approx(row["mean"])


def test_sweep_averages_a_third_factor_and_restricts_to_a_township(loaded):
    results = loaded["sweep3"]
    fig = plots.sweep(results)
    assert len(fig.axes) == 2  # the experiment's kpis: wait_mean, one_trip_rate
    assert all(len(ax.lines) == 2 for ax in fig.axes)
    assert "Averaged over townships.east.windows.G1" in " ".join(caption(fig).split())
    assert fig.axes[0].get_xlabel() == "behaviour.mail_share"
    one = plots.sweep(results, "west")
    assert "township west" in one._suptitle.get_text()
    frame = results.tables["by_township"]
    west = frame[(frame["township"] == "west") & (frame["behaviour.mail_share"] == 0.5)
                 & (frame["reforms.coordination"] == "on")]
    x, y = one.axes[0].lines[1].get_data()
    assert y[list(x).index(0.5)] == pytest.approx(west.groupby("replication")["wait_mean"].mean().mean())


def test_many_scenarios_switch_to_summaries(loaded):
    """Six scenarios (the run's data under six names): near vs remote per scenario instead of every
    township; the legend outside the axes; the baseline's band only."""
    import dataclasses

    import pandas as pd

    run = loaded["run"]
    names = [f"s{i}" for i in range(6)]

    def copies(frame):
        return pd.concat([frame.assign(scenario=name) for name in names], ignore_index=True)

    many = dataclasses.replace(run, scenarios=names, tables={k: copies(v) if "scenario" in v else v
                                                             for k, v in run.tables.items()})
    fig = plots.townships(many)
    assert len(fig.axes) == len(HEADLINE)
    for ax in fig.axes:
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert [c.get_label() for c in bars] == ["near (1 township)", "remote (1 township)"]
    assert [t.get_text() for t in fig.axes[-1].get_xticklabels()] == names
    assert "near and remote" in fig._suptitle.get_text()
    waits = plots.waits(many)
    assert waits.axes[0].get_legend() is None and len(waits.legends) == 1
    assert len(waits.legends[0].get_texts()) == 6 + 2
    hourly = plots.by_hour(many)
    assert all(len(ax.lines) == 6 for ax in hourly.axes)
    assert all(sum(isinstance(c, PolyCollection) for c in ax.collections) == 1 for ax in hourly.axes)
    assert "for the first scenario only" in " ".join(caption(hourly).split())
    heat = plots.utilization(many)
    assert len([ax for ax in heat.axes if ax.get_label() != "<colorbar>"]) == 6  # a grid of panels, 3 wide
    assert heat.axes[0].get_position().y0 == pytest.approx(heat.axes[2].get_position().y0)


# --- the command line -------------------------------------------------------------------------

def test_cli_with_a_township_names_the_files_and_says_what_it_ignored(dirs):
    result = invoke("plot", dirs["run"], "--kind", "by-hour", "--kind", "waits", "--township", "east")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(dirs["run"] / "figures" / "by-hour--township-east.png"),
                                          str(dirs["run"] / "figures" / "waits.png")]
    assert "--township east: does not apply to waits" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--kind", "bogus"], "'bogus' is not one of"),
    (["--kind", "compare"], "--kind compare: not for a run directory"),
    (["--kind", "sweep"], "--kind sweep: not for a run directory"),
    (["--township", "nowhere"], "--township nowhere: no such township in"),
    (["--format", "jpeg"], "'jpeg' is not one of"),
    (["--scenario", "nope"], "--scenario nope: no such scenario in"),
    (["--kind", "queue"], "--kind queue: "),
    (["--kind", "staffing"], "--kind staffing: not for a run directory"),
    (["--dpi", "0"], "--dpi"),
    (["--days", "x"], "--days"),
])
def test_cli_bad_input_exits_2(dirs, args, message):
    result = invoke("plot", dirs["run"], *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert result.stdout == ""
    if "township" in message:
        assert "(known: east, west)" in result.stderr


def test_cli_kinds_that_do_not_fit_the_directory(dirs, tmp_path):
    result = invoke("plot", dirs["sweep"], "--kind", "waits")
    assert result.exit_code == 2 and "not for a sweep directory" in result.stderr
    result = invoke("plot", dirs["compare"], "--kind", "sweep", "--kind", "compare")
    assert result.exit_code == 2 and "--kind sweep: not for a compare directory" in result.stderr
    # nothing is written when one of the kinds does not fit
    fresh = tmp_path / "fresh"
    shutil.copytree(dirs["run"], fresh, ignore=shutil.ignore_patterns("figures"))
    result = invoke("plot", fresh, "--kind", "waits", "--kind", "compare")
    assert result.exit_code == 2 and not (fresh / "figures").exists()
    # an older directory without the per-hour table: by-hour is not a default, and asked for, it is an error
    (fresh / "kpis_by_hour.parquet").unlink()
    assert plots.default_kinds(plots.load(fresh)) == ["waits", "trips", "lead-times", "townships"]
    result = invoke("plot", fresh, "--kind", "utilization")
    assert result.exit_code == 2 and "has no kpis_by_hour.parquet" in result.stderr
    for bad in (tmp_path / "missing", DATA):  # no such directory; a directory without manifest.json
        result = invoke("plot", bad)
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.stderr


def test_plotting_is_not_imported_by_the_cli():
    code = ("import sys\nfrom simcenter.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('LOADED', [m for m in ('matplotlib', 'simcenter.plots', 'pandas') if m in sys.modules])")
    for args in (["--help"], ["plot", "--help"]):
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
        assert "LOADED []" in out, (args, out)


def test_the_palette_is_okabe_ito_and_every_series_uses_it(loaded):
    fig = plots.by_hour(loaded["compare"])
    from matplotlib.colors import to_hex

    colours = [to_hex(line.get_color()).upper() for line in fig.axes[0].lines]
    assert colours == list(plots.OKABE_ITO[:3])


def test_every_kpi_axis_reads_the_catalogue():
    """A KPI's panel (townships, sweep) has the catalogue's label and unit, and its axis stays near its bounds."""
    from matplotlib.figure import Figure

    for name, k in catalogue.CATALOGUE.items():
        ax = Figure().subplots()
        ax.plot([0, 1], [-0.5, 1.5])
        before = ax.get_ylim()
        plots.style.kpi_axis(ax, name)
        assert (ax.get_title(), ax.get_ylabel()) == (k.label, k.unit), name
        margin = 0.02 * (1 if k.upper == 1 else before[1] - before[0])
        assert ax.get_ylim() == pytest.approx((-margin, 1 + margin if k.upper == 1 else before[1])), name
    mean, low, high, n = plots.common.interval(np.array([0.0, 0.0, 0.03]), "one_trip_rate")
    assert n == 3 and low == 0.0 < mean < high
    assert plots.common.interval(np.array([0.0, 0.0, 0.03]))[1] < 0  # not a KPI: not clipped



def test_township_effects_are_the_paired_differences_of_kpis_by_township(dirs, loaded):
    """Each heatmap cell: the mean over replications of reform − baseline in that township, computed here
    from kpis_by_township.parquet; marked where the paired t interval at the comparison's level excludes 0;
    the figure writes it in the cell."""
    import pandas as pd
    from scipy import stats

    from simcenter.plots.effects import cell_text, township_effects

    results = loaded["compare"]
    table = township_effects(results)
    frame = pd.read_parquet(dirs["compare"] / "kpis_by_township.parquet")
    kpis = [k for k in HEADLINE if catalogue.kpi(k).higher_is_better is not None]
    assert sorted(set(table["kpi"])) == sorted(kpis) and "staff_hours" not in set(table["kpi"])
    assert len(table) == len(kpis) * 2 * frame["township"].nunique()
    level = results.comparison_level
    for row in table.itertuples():
        pair = frame[frame["township"] == row.township].pivot(index="replication", columns="scenario", values=row.kpi)
        d = (pair[row.reform] - pair["small"]).dropna()
        assert row.difference == pytest.approx(d.mean(), abs=1e-12)
        half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)) if d.std() > 0 else 0
        assert row.significant == bool(abs(d.mean()) > half and (half > 0 or d.mean() != 0)), row
    fig = plots.KINDS["township-effects"](results, None)
    shown = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {cell_text(r.kpi, r.difference, r.significant) for r in table.itertuples()} <= shown
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["east", "west"]  # names (here = ids)

# --- many scenarios, styles, options, fonts, staffing and queue ---------------------------------

SHORT = ("--set", "horizon.days=3", "--set", "horizon.warmup_days=1", "--set", "horizon.drain_days=4")


@pytest.fixture(scope="module")
def more(tmp_path_factory):
    """A compare of 8 scenarios (small.yaml with other window counts, 3 days), a run with records and
    Chinese township names, and a staffing search."""
    base = tmp_path_factory.mktemp("more")
    variants = []
    for i in range(7):
        file = base / f"v{i}.yaml"
        file.write_text(f"extends: {SMALL}\nname: v{i}\ntownships: {{east: {{windows: {{G1: {1 + i % 3}, "
                        f"G2: {1 + i // 3}}}}}}}\n", encoding="utf-8")
        variants.append(file)
    commands = {
        "compare8": ["compare", SMALL, *variants, "-r", 2, *SHORT],
        "records": ["run", SMALL, "-r", 2, "--records", "--set", "townships.east.name=Dongzhen",
                    "--set", "townships.east.name_zh=东镇", "--set", "horizon.days=8"],
        "staff": ["staff", SMALL, "--target", "wait_p90<=20", "-r", 2, *SHORT],
    }
    return results_dirs(base, commands)


def series(ax) -> list[str]:
    """The data series of a panel: labelled lines (not reference lines), error bars, bars."""
    lines = [line.get_label() for line in ax.lines if not line.get_label().startswith("_")
             and not getattr(line, "is_reference", False)]
    return lines + [c.get_label() for c in ax.containers if not (isinstance(c, ErrorbarContainer) and c.lines[0] is None)]


def styles(fig) -> dict[str, tuple]:
    """label → (colour, marker, line style) of every series of the figure."""
    from matplotlib.colors import to_hex

    out = {}
    for ax in fig.axes:
        for line in ax.lines:
            if not line.get_label().startswith("_") and not getattr(line, "is_reference", False):
                out.setdefault(line.get_label(), set()).add((to_hex(line.get_color()), line.get_marker(),
                                                             line.get_linestyle()))
        for c in ax.containers:
            if isinstance(c, ErrorbarContainer) and c.lines[0] is not None:  # not the whiskers of bars
                line = c.lines[0]
                out.setdefault(c.get_label(), set()).add((to_hex(line.get_color()), line.get_marker(), "none"))
            elif isinstance(c, BarContainer):
                patch = c.patches[0]
                out.setdefault(c.get_label(), set()).add((to_hex(patch.get_facecolor()), patch.get_hatch(), "bar"))
    return out


@pytest.mark.slow
def test_a_compare_of_eight_scenarios_has_at_most_six_series_a_panel_and_unique_styles(more):
    results = plots.load(more["compare8"])
    assert len(results.scenarios) == 8
    for kind in ("waits", "by-hour", "utilization", "compare", "township-effects", "trips", "lead-times",
                 "townships"):
        fig = plots.KINDS[kind](results, None)
        for ax in fig.axes:
            assert len(set(series(ax))) <= plots.MAX_SERIES, (kind, ax.get_title(), series(ax))
        seen = styles(fig)
        assert all(len(s) == 1 for s in seen.values()), (kind, seen)  # a series looks the same in every panel
        combos = [next(iter(s)) for s in seen.values()]
        assert len(combos) == len(set(combos)), (kind, seen)  # and no two series alike
        assert not any(ax.get_legend() for ax in fig.axes), kind  # legends outside the panels
    waits = plots.waits(results)
    assert len(waits.axes) == 7 and waits.axes[0].get_title(loc="left") == "small vs v0"


def test_style_combinations_are_unique():
    from simcenter.plots.style import combination

    combos = [combination(i) for i in range(64)]
    assert len(set(combos)) == 64
    assert [c[0] for c in combos[:8]] == list(plots.OKABE_ITO)


def test_options_name_the_files_and_restrict_the_figures(dirs, tmp_path):
    result = invoke("plot", dirs["compare"], "--kind", "compare", "--kind", "waits", "--scenario", "small-more",
                    "--kpi", "wait_mean", "--out", tmp_path / "f", "--format", "pdf")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(tmp_path / "f" / "compare--scenario-small-more--kpi-wait_mean.pdf"),
                                          str(tmp_path / "f" / "waits--scenario-small-more.pdf")]
    assert "--kpi wait_mean: does not apply to waits" in result.stderr
    results = plots.common.restrict(plots.load(dirs["compare"]), ["small-more"])
    assert results.scenarios == ["small", "small-more"]  # the baseline kept
    fig = plots.compare(results, kpis=["wait_mean"])
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == catalogue.label("wait_mean")
    assert "k = 2 reforms" in " ".join(caption(fig).split())  # the comparison's Bonferroni k, not the shown one
    result = invoke("plot", dirs["compare"], "--kind", "trips", "--dpi", 60, "--out", tmp_path / "f")
    assert result.stdout.splitlines() == [str(tmp_path / "f" / "trips--dpi-60.png")]  # not the 150-dpi trips.png
    for args, message in ((["--kpi", "bogus"], "--kpi bogus: not a KPI of the compare figure"),
                          (["--scenario", "nope"], "(known: small, small-copy, small-more)")):
        result = invoke("plot", dirs["compare"], "--kind", "compare", *args)
        assert result.exit_code == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1


def test_pdf_bytes_are_deterministic(loaded, tmp_path):
    fig = plots.KINDS["trips"](loaded["compare"], None)
    plots.save(fig, tmp_path / "a.pdf")
    plots.save(plots.KINDS["trips"](loaded["compare"], None), tmp_path / "b.pdf")
    data = (tmp_path / "a.pdf").read_bytes()
    assert data[:5] == b"%PDF-" and data == (tmp_path / "b.pdf").read_bytes()
    assert b"CreationDate" not in data


@pytest.mark.slow
def test_chinese_township_names_draw_without_missing_glyphs(more, tmp_path):
    import warnings

    from simcenter.plots.style import CJK_FONTS

    if not CJK_FONTS:
        pytest.skip("no CJK font installed (Debian: fonts-wqy-zenhei)")
    results = plots.load(more["records"])
    assert plots.common.town_label(results, "east") == "Dongzhen 东镇"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.townships(results)
        plots.save(fig, tmp_path / "t.png")
        plots.save(plots.by_hour(results, "east"), tmp_path / "h.svg")
    assert not [w for w in caught if "missing from font" in str(w.message)], [str(w.message) for w in caught]
    assert "Dongzhen 东镇 (0)" in [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    for name in ("东镇", "dongzhen", "east"):  # Chinese, pinyin (any case), id
        result = invoke("plot", more["records"], "--kind", "by-hour", "--township", name, "--out", tmp_path)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == str(tmp_path / "by-hour--township-east.png")
    result = invoke("plot", more["records"], "--township", "西镇")
    assert result.exit_code == 2 and "(known: east (东镇), west)" in result.stderr


@pytest.mark.slow
def test_queue_time_average_is_the_visits_and_the_hourly_table(more):
    """The plotted mean step function over the measured span: its time average equals the visits'
    overlaps with the span (independent), and the model's queue area in kpis_by_hour."""
    import pandas as pd

    results = plots.load(more["records"])
    fig = plots.queue(results, "east", days="8")  # more days than measured: the whole measured span
    line = fig.axes[0].lines[0]
    x, y = (np.asarray(v, float) for v in line.get_data())
    a, b = x[0] * 1440, x[-1] * 1440
    plotted = float(np.sum(y[:-1] * np.diff(x) * 1440)) / (b - a)
    visits = pd.read_parquet(more["records"] / "visits.parquet")
    east = visits[(visits["township"] == "east") & (visits["outcome"] != "balked")]
    leave = np.where(east["outcome"] == "served", east["called"], east["done"])
    overlap = np.clip(np.minimum(leave, b) - np.maximum(east["arrive"], a), 0, None)
    assert plotted == pytest.approx(overlap.sum() / (b - a) / 2, rel=1e-9)  # two replications
    hourly = results.tables["by_hour"]
    days = 8 - 2  # measured working days of small.yaml (8 days, 2 warm-up)
    area = hourly.loc[hourly["township"] == "east", "queue_mean"].sum() * 60 * days / 2
    assert plotted * (b - a) == pytest.approx(area, rel=1e-6)
    daily = plots.queue(results, None, days="all")
    assert len(daily.axes[0].lines[0].get_xdata()) == days
    result = invoke("plot", more["records"], "--kind", "queue")
    assert result.exit_code == 0 and result.stdout.strip().endswith("figures/queue.png")


@pytest.mark.slow
def test_staffing_figure_marks_the_targets_and_the_choice(more):
    import pandas as pd

    results = plots.load(more["staff"])
    assert results.kind == "staff" and plots.default_kinds(results) == ["staffing"]
    fig = plots.staffing(results)
    search = pd.read_csv(more["staff"] / "staffing_search.csv")
    chosen = pd.read_csv(more["staff"] / "staffing.csv")
    assert len(fig.axes) == search["township"].nunique()
    for ax, town in zip(fig.axes, dict.fromkeys(search["township"])):
        assert ax.get_xlabel() == "windows (total)"
        target = [line for line in ax.lines if getattr(line, "is_reference", False)][0]
        assert target.get_ydata()[0] == 20
        star = [line for line in ax.lines if line.get_label() == "chosen"][0]
        mine = chosen[chosen["township"] == town]
        assert star.get_xdata()[0] == mine["windows"].sum()
        assert star.get_ydata()[0] == pytest.approx(mine["wait_p90_mean"].iloc[0])
        points = sum(len(c.lines[0].get_xdata()) for c in ax.containers)
        assert points == (search["township"] == town).sum()
    result = invoke("plot", more["staff"], "--kind", "waits")
    assert result.exit_code == 2 and "not for a staff directory" in result.stderr
