"""The HTML report (`simcenter report`, `--report`): valid, complete, escaped, offline, deterministic.

Three small results directories are made once per module through the command line with
`--report`: a run, a comparison whose reform is named `<script>alert(1)</script>`, and a
one-factor factorial sweep. The browser test opens a report in Debian's headless chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

import pandas as pd

from simcenter import report
from simcenter.kpis import HEADLINE
from simcenter.resultsdir import read
from builders import SMALL, invoke, results_dirs

SHORT = ["--set", "horizon.days=4", "--set", "horizon.warmup_days=1", "--set", "horizon.drain_days=5"]
EVIL = "<script>alert(1)</script>"
SECTION_IDS = ["findings", "comparison", "waits", "run-at-most-once", "lead-times", "resources", "townships",
               "assumptions", "manifest"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
CHROMIUM = shutil.which("chromium")



@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    """{"run", "compare", "sweep"}: results directories; the compare written with --report."""
    base = tmp_path_factory.mktemp("report")
    evil = base / "evil.yaml"
    text = SMALL.read_text(encoding="utf-8").replace("name: small\n", f'name: "{EVIL}"\ndescription: '
                                                     '"More G1 windows & <b>bold</b> claims"\n', 1)
    more = "east: {cases_per_day: 60, windows: {G1: 2, G2: 1},"
    text = text.replace("east: {cases_per_day: 60, windows: {G1: 1, G2: 1},", more, 1)
    assert more in text  # the reform: one more G1 window in east
    evil.write_text(text, encoding="utf-8")
    shutil.copy(SMALL, base / "small.yaml")
    (base / "exp.yaml").write_text(
        "name: report-sweep\nbase: small.yaml\ndesign: factorial\nfactors:\n  townships.east.windows.G1: [1, 2]\n"
        "replications: 2\nchunk: 2\nsets: [horizon.days=4, horizon.warmup_days=1, horizon.drain_days=5]\n",
        encoding="utf-8")
    out = results_dirs(base, {"compare": ["compare", SMALL, evil, "-r", 2, *SHORT]}, "--report")
    return out | results_dirs(base, {"run": ["run", SMALL, "-r", 2, *SHORT], "sweep": ["sweep", base / "exp.yaml"]})


def html_of(path: Path, figures: bool = True) -> str:
    """The directory's report: report.html (written now if the fixture did not: only the compare
    has --report, figures are most of a report's time), or without figures, built in memory."""
    if not figures:
        return report.build(path, with_figures=False)
    if not (path / "report.html").is_file():
        report.write(path)
    return (path / "report.html").read_text(encoding="utf-8")


class Checker(HTMLParser):
    """Tags balanced, ids unique, every in-page reference (#id, url(#id)) pointing at an id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.refs: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for key, value in attrs.items():
            if key.endswith("href") and value and value.startswith("#"):
                self.refs.append(value[1:])
            self.refs += re.findall(r"url\(#([^)]+)\)", value or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):  # <path .../> in SVG: opened and closed
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] not in ("style",):
            self.text.append(data)


def check(html: str) -> Checker:
    checker = Checker()
    checker.feed(html)
    checker.close()
    return checker


WHOLE_REPORT = pytest.mark.slow  # a whole report with its figures, beyond the compare's: the full suite runs it


@pytest.mark.parametrize("kind", [pytest.param("run", marks=WHOLE_REPORT), "compare",
                                  pytest.param("sweep", marks=WHOLE_REPORT)])
def test_report_is_valid_html_with_every_section(dirs, kind):
    html = html_of(dirs[kind])
    checker = check(html)
    assert checker.doctype and checker.doctype.lower() == "doctype html"
    assert not checker.problems and not checker.stack, (checker.problems[:5], checker.stack)
    duplicated = sorted({i for i in checker.ids if checker.ids.count(i) > 1})
    assert not duplicated, duplicated[:10]
    assert set(checker.refs) <= set(checker.ids), sorted(set(checker.refs) - set(checker.ids))[:10]
    h2 = [attrs.get("id") for tag, attrs in checker.tags if tag == "h2"]
    assert h2 == (["decision"] if kind == "compare" else []) + SECTION_IDS
    svgs = [attrs for tag, attrs in checker.tags if tag == "svg"]
    assert svgs and all(a.get("role") == "img" and a.get("aria-label") for a in svgs)
    text = " ".join(checker.text)
    assert "95%" in text and "docs/model.md" in text
    assert "Cangnan" not in text and "reconstruction" not in text  # a synthetic scenario: no notes on the shipped data
    manifest = (dirs[kind] / "manifest.json").read_text(encoding="utf-8")
    assert re.search(r'"version": "([^"]+)"', manifest).group(1) in text


@pytest.mark.parametrize("kind", [pytest.param("run", marks=WHOLE_REPORT), "compare",
                                  pytest.param("sweep", marks=WHOLE_REPORT)])
def test_report_is_self_contained_and_offline(dirs, kind):
    html = html_of(dirs[kind])
    assert f'<meta http-equiv="Content-Security-Policy" content="{report.CSP}">'.replace("'", "&#39;") in html
    assert "default-src &#39;none&#39;" in html, kind
    assert "http://" not in html and "https://" not in html, kind
    assert "<script" not in html.lower(), kind
    tags = check(html).tags
    assert not [a for _, a in tags if "src" in a], kind
    assert not [a["href"] for _, a in tags if "href" in a and not a["href"].startswith("#")], kind
    assert not [a for _, a in tags if any(k.startswith("on") for k in a)], kind  # no event handlers
    assert not re.findall(r"url\((?!#)", html), kind
    assert "<link" not in html and "@import" not in html, kind


def test_user_text_is_escaped(dirs):
    html = html_of(dirs["compare"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "More G1 windows &amp; &lt;b&gt;bold&lt;/b&gt; claims" in html
    text = " ".join(check(html).text)
    assert EVIL in text  # shown to the reader as text


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
def test_same_inputs_give_the_same_bytes(dirs, tmp_path):
    assert report.build(dirs["sweep"]).encode("utf-8") == html_of(dirs["sweep"]).encode("utf-8")
    # another process, another hash seed
    again = tmp_path / "again.html"
    done = subprocess.run([sys.executable, "-m", "simcenter", "report", str(dirs["compare"]), "-o", str(again)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(again)
    assert again.read_bytes() == (dirs["compare"] / "report.html").read_bytes()


def test_findings_speak_plainly(dirs):
    text = " ".join(check(html_of(dirs["compare"])).text)
    assert "same simulated citizens" in text and "Bonferroni" in text
    # the reform (two G1 windows in east) is told as changing the headline KPIs whose paired
    # interval in comparison.csv excludes 0, and only then
    rows = pd.read_csv(dirs["compare"] / "comparison.csv")
    changed = rows[rows["kpi"].isin(HEADLINE) & ((rows["ci_low"] > 0) | (rows["ci_high"] < 0))]
    assert ("changes none of the headline KPIs detectably" in text) == changed.empty
    assert len(re.findall(r"(?:raises|lowers) the ", text)) == len(changed)
    assert "Strict one-trip rate: " in " ".join(check(html_of(dirs["run"], figures=False)).text)
    sweep = " ".join(check(html_of(dirs["sweep"], figures=False)).text)
    assert re.search(r"Lowest mean wait: point \d \(townships\.east\.windows\.G1 = \d\), [\d.]+ min \(95% CI", sweep)
    assert "Factor effects" in sweep


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
def test_manifest_warnings_come_first_in_a_box(dirs, tmp_path):
    """manifest.json's `warnings` are listed, escaped, in a warning box before anything else."""
    import json

    target = tmp_path / "warned"
    shutil.copytree(dirs["run"], target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    lines = ["Township east: reviewers are loaded at 130% of capacity <b>& more</b>", "Only 2 replications"]
    manifest["warnings"] = lines
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    html = report.build(target, with_figures=False)
    checker = check(html)
    assert not checker.problems and not checker.stack
    body = [(tag, attrs) for tag, attrs in checker.tags if tag not in ("html", "head", "meta", "title", "style")]
    tag, attrs = body[1]  # the first element in <body>
    assert body[0][0] == "body" and tag == "div" and attrs.get("class") == "warnings" and attrs.get("role") == "alert"
    box = html.index('<div class="warnings"')
    assert box < html.index("<header>") < html.index("<h1>")
    escaped = "Township east: reviewers are loaded at 130% of capacity &lt;b&gt;&amp; more&lt;/b&gt;"
    assert html.index(escaped) < html.index("<header>") and "<b>& more" not in html
    assert html.index("<li>Only 2 replications</li>") < html.index("<header>")
    text = " ".join(checker.text)
    assert text.index(lines[0]) < text.index("Findings")  # before the navigation and every section
    # no warnings (absent or empty): no box
    for absent in (True, False):
        if absent:
            del manifest["warnings"]
        else:
            manifest["warnings"] = []
        (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        assert 'class="warnings"' not in report.build(target, with_figures=False)


def test_change_sentence_reads_like_a_planner_would_say_it():
    row = {"baseline_mean": 0.612, "reform_mean": 0.643, "difference": 0.031, "ci_low": 0.028, "ci_high": 0.034}
    assert report.findings.change_sentence("S1 full empowerment", "one_trip_rate", row, 1 - 0.05 / 14) == (
        "S1 full empowerment raises the strict one-trip rate from 61.2% to 64.3% (+5.1% relative; +3.1 points, "
        "99.6% CI +2.8 to +3.4).")
    row = {"baseline_mean": 9.4, "reform_mean": 7.1, "difference": -2.3, "ci_low": -2.9, "ci_high": -1.7}
    assert report.findings.change_sentence("S2", "wait_mean", row, 0.95) == (
        "S2 lowers the mean wait from 9.4 min to 7.1 min (−24% relative; −2.3 min, 95% CI −2.9 to −1.7).")
    # a KPI of the ranked table: its difference and interval are there, not repeated
    assert report.findings.change_sentence("S2", "wait_mean", row, 0.95, with_interval=False) == (
        "S2 lowers the mean wait from 9.4 min to 7.1 min (−24% relative).")
    # a bound that rounds to zero gets more decimals rather than showing 0.00
    assert report.difference("trips_per_case", -0.07, -0.15, 0.002) == ("−0.070 trips", "−0.150", "+0.002")


@pytest.mark.slow  # the whole command again (the fixture ran --report): the full suite runs it
def test_report_command(dirs, tmp_path):
    out = tmp_path / "elsewhere.html"
    result = invoke("report", dirs["run"], "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert out.read_bytes() == html_of(dirs["run"]).encode("utf-8")


@pytest.mark.parametrize("make", ["missing", "file", "no_manifest"])
def test_report_of_a_bad_directory_is_one_line_and_exit_2(tmp_path, make):
    target = tmp_path / "x"
    if make == "file":
        target.write_text("not a directory")
    elif make == "no_manifest":
        target.mkdir()
    result = invoke("report", target)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and str(target) in result.stderr
    assert not (tmp_path / "x" / "report.html").exists()


def test_report_into_a_missing_directory_is_refused(dirs, tmp_path):
    result = invoke("report", dirs["run"], "-o", tmp_path / "nowhere" / "r.html")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
def test_the_wheel_ships_the_template(tmp_path):
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("simcenter-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "simcenter/report/templates/report.html.j2" in names
    assert "simcenter/docs/cangnan-data-notes.md" in names  # the notes a report of the Cangnan data shows


# --- in a browser ---------------------------------------------------------------------------------

def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=90)


def complaints(stderr: str) -> list[str]:
    """Console messages and blocked loads (the dbus and GPU noise of a headless run is ignored)."""
    return [line for line in stderr.splitlines()
            if "CONSOLE" in line or "Refused to" in line or "violates the following Content Security Policy" in line]


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)")
def test_report_in_headless_chromium(dirs, tmp_path):
    page = dirs["compare"] / "report.html"
    html = page.read_text(encoding="utf-8")
    figures = html.count("<svg ")
    assert figures >= 5

    shot = tmp_path / "shot.png"
    done = chromium(page, tmp_path / "profile-1", f"--screenshot={shot}", "--window-size=1200,2400")
    assert done.returncode == 0, done.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    assert struct.unpack(">II", png[16:24]) == (1200, 2400)
    assert not complaints(done.stderr), complaints(done.stderr)

    done = chromium(page, tmp_path / "profile-2", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = check(done.stdout)
    assert len([t for t, _ in dom.tags if t == "svg"]) == figures
    assert [a.get("id") for t, a in dom.tags if t == "h2"] == ["decision"] + SECTION_IDS
    assert {f"figure-{kind}" for kind in ("compare", "township-effects", "waits", "trips")} <= set(dom.ids)
    assert EVIL in " ".join(dom.text) and not [t for t, _ in dom.tags if t == "script"]
    assert not complaints(done.stderr), complaints(done.stderr)

    # the check above can see a blocked load: the same page with one external image
    leaky = tmp_path / "leaky.html"
    leaky.write_text(html.replace("<main>", '<main><img src="https://example.invalid/x.png" alt="">', 1),
                     encoding="utf-8")
    done = chromium(leaky, tmp_path / "profile-3", "--dump-dom")
    assert [line for line in complaints(done.stderr) if "Content Security Policy" in line], done.stderr[-2000:]


def test_labels_units_and_directions_come_from_the_catalogue():
    """Every KPI's words in the report are the catalogue's (simcenter.kpis.CATALOGUE), as in the figures."""
    from simcenter import kpis

    for name, k in kpis.CATALOGUE.items():
        assert report.label(name) == k.label
        assert report.column(name) in (k.label, f"{k.label} ({k.unit})")
    assert report.column("wait_mean") == "mean wait (minutes)"
    assert report.column("one_trip_rate") == "strict one-trip rate"
    assert report.value("window_utilization_mean", 0.5) == "50.0%" and report.value("cases", 1234.0) == "1,234"
    assert report.findings.best_of([(1.0, "a"), (2.0, "b")], kpis.kpi("one_trip_rate").higher_is_better is True) == "b"
    assert report.findings.best_of([(1.0, "a"), (2.0, "b")], kpis.kpi("staff_hours").higher_is_better is True) == "a"


# --- the first screen of a comparison: levers without effect, the ranked table, the heatmap ---------

def decision_html(html: str) -> str:
    start = html.index('<h2 id="decision"')
    return html[start:html.index("</section>", start)]


def table_rows(html: str) -> list[list[tuple[str, str]]]:
    """(text, sub) of every cell of every body row of the first table in `html`."""
    import html as entities

    body = html[html.index("<tbody>"):html.index("</tbody>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r'<td[^>]*>(.*?)(?:<span class="sub">(.*?)</span>)?</td>', row, re.S)
        rows.append([(entities.unescape(t), entities.unescape(s)) for t, s in cells])
    return rows


def number(text: str) -> tuple[float, int]:
    """'−1.80 min*' → (−1.8, 2 decimals)."""
    found = re.search(r"[+−-]?[\d,]+(?:\.(\d+))?", text)
    return float(found.group(0).replace("−", "-").replace(",", "")), len(found.group(1) or "")


def test_a_comparison_opens_with_the_warnings_and_the_ranked_table_before_any_figure(dirs):
    html = html_of(dirs["compare"])
    first = html.index("<section")
    assert html.index('<h2 id="decision"') < html.index("<svg") and 'id="decision"' in html[first:first + 200]
    decision = decision_html(html)
    assert decision.index("<table>") < decision.index("<svg") and "Ranked by" in decision
    assert 'id="figure-township-effects"' in decision  # the heatmap right after the table
    for kind in ("run", "sweep"):
        assert 'id="decision"' not in html_of(dirs[kind], figures=False)


def test_the_ranked_table_holds_comparison_csv(dirs):
    from simcenter.report import decision

    rows = pd.read_csv(dirs["compare"] / "comparison.csv").set_index(["reform", "kpi"])
    kpis = [k for k in decision.SCORED + decision.COSTS if k in set(rows.index.get_level_values(1))]
    assert kpis == ["wait_mean", "served_within_15_share", "one_trip_rate", "one_trip_rate_official",
                    "lead_days_mean", "staff_hours", "staff_cost"]
    table = table_rows(decision_html(html_of(dirs["compare"])))
    assert [r[1][0] for r in table] == [EVIL]
    for row in table:
        for kpi, (text, sub) in zip(kpis, row[3:], strict=True):
            r = rows.loc[(row[1][0], kpi)]
            scale = 100 if kpi in ("served_within_15_share", "one_trip_rate", "one_trip_rate_official") else 1
            bounds = re.split(r",\s+", sub)[:2]  # "[−2.1, +0.4] ..."; thousands keep their comma
            for shown, expected in zip([text, *bounds], (r["difference"], r["ci_low"], r["ci_high"])):
                x, decimals = number(shown)
                assert abs(x - expected * scale) <= 0.5 * 10 ** -decimals + 1e-9, (kpi, shown, expected)
            assert text.endswith("*") == bool(r["significant"]), (kpi, text)


def test_staff_cost_shows_only_when_the_results_have_it(dirs, tmp_path):
    target = tmp_path / "costed"
    shutil.copytree(dirs["compare"], target)
    rows = pd.read_csv(target / "comparison.csv")
    rows = rows[rows["kpi"] != "staff_cost"]  # results without costs (an older results directory)
    rows.to_csv(target / "comparison.csv", index=False)
    assert "staff cost" not in decision_html(report.build(target, with_figures=False))
    extra = rows[rows["kpi"] == "staff_hours"].assign(kpi="staff_cost", difference=1234.5, ci_low=1000.25,
                                                      ci_high=1468.75, significant=True)
    pd.concat([rows, extra]).to_csv(target / "comparison.csv", index=False)
    html = decision_html(report.build(target, with_figures=False))
    assert "staff cost" in html
    text, sub = table_rows(html)[0][-1]
    x, decimals = number(text)
    assert abs(x - 1234.5) <= 0.5 * 10 ** -decimals and text.endswith("*")
    assert [number(b)[0] for b in sub.split(",", 2)[:2]] != [] and sub.startswith("[+1,000")


def test_levers_without_effect_are_warned_of(dirs, tmp_path):
    """A seasonal group whose months miss the measured period (March 2024), and a reform equal to the
    baseline in every replication, are named in the warnings box; a seasonal group open in March is not."""
    import yaml

    from simcenter.report import decision

    target = tmp_path / "levers"
    shutil.copytree(dirs["compare"], target)
    reform_file = next(p for p in (target / "scenarios").glob("*.resolved.yaml") if EVIL in p.read_text("utf-8"))
    data = yaml.safe_load(reform_file.read_text("utf-8"))
    for months, warned in (([10, 11], True), ([2, 3], False)):
        data["window_groups"]["G1S"] = {"accepts": ["RS"], "months": months}
        data["townships"]["east"]["windows"]["G1S"] = 2
        reform_file.write_text(yaml.safe_dump(data), encoding="utf-8")
        lines = decision.lever_warnings(read(target))
        assert any("G1S (Human Resources and Social Security) is on duty only in Oct and Nov" in line
                   and "its 2 windows never went on duty" in line for line in lines) == warned, lines
        assert not any("had no effect in this horizon." in line for line in lines)
    kpis = pd.read_parquet(target / "kpis.parquet")
    baseline = kpis[kpis["scenario"] == "small"]
    kpis = pd.concat([baseline, baseline.assign(scenario=EVIL)], ignore_index=True)
    kpis.to_parquet(target / "kpis.parquet")
    html = report.build(target, with_figures=False)
    box = html[html.index('<div class="warnings"'):html.index("<header>")]
    assert "every KPI is the same as the baseline&#39;s in every replication" in box
    assert "no effect in this horizon" in decision_html(html)


def test_level_intervals_of_shares_stay_inside_0_and_100_percent(dirs):
    assert report.interval("one_trip_rate", -0.05, 1.02) == "[0.0%, 100.0%]"
    assert report.interval("wait_mean", -1.0, 3.0) == "[0.0, 3.0]"
    assert report.difference("one_trip_rate", -0.05, -0.08, -0.02)[1] == "−8.0"  # differences are not clipped
    for kind, path in dirs.items():
        html = html_of(path, figures=False)
        text = " ".join(check(html).text)
        bounds = re.findall(r"CI (−?[\d.]+)% to (−?[\d.]+)%", text)  # findings: the headline shares
        for table in re.findall(r"<table>.*?</table>", html, re.S):  # tables: by the column's KPI
            head = [h for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
            for row in table_rows(table):
                for header, (_, sub) in zip(head, row):
                    found = re.fullmatch(r"\[(−?[\d.]+)%, (−?[\d.]+)%\]", sub)
                    if found and "utilisation" not in header:  # utilisation can exceed 100% (overtime)
                        bounds.append(found.groups())
        assert bounds, kind
        for low, high in bounds:
            assert 0 <= float(low.replace("−", "-")) <= float(high) <= 100, (kind, low, high)
        assert "intervals of shares are clipped to [0, 100%]" in text


def test_a_staff_directory_has_no_report_and_says_so(tmp_path):
    out = tmp_path / "staff"
    done = invoke("staff", SMALL, "--target", "wait_p90<=20", "-r", 2, "--set", "horizon.days=2",
                  "--set", "horizon.warmup_days=0", "--set", "horizon.drain_days=0", "--out", out)
    assert done.exit_code == 0, done.stderr
    result = invoke("report", out)
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [
        f"{out}: a staff directory has no report yet (its tables and `simcenter plot {out}` are its outputs)"]
    assert not (out / "report.html").exists()
