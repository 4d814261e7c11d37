"""Reading results directories back: an odd manifest or table is refused with one line naming the
file (exit 2, never an internal error); the records of `run --records` carry the domain's labels."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from simcenter import resultsdir
from simcenter.model.records import Outcome, Route
from simcenter.results import MANIFEST_KEYS, OutputError
from builders import SMALL, invoke, results_dirs

SHORT = ["-r", 2, "--set", "horizon.days=4", "--set", "horizon.warmup_days=1", "--set", "horizon.drain_days=5"]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    base = tmp_path_factory.mktemp("reading")
    (base / "more.yaml").write_text(f"extends: {SMALL}\nname: small-more\n", encoding="utf-8")
    (base / "exp.yaml").write_text(
        f"name: tiny\nbase: {SMALL}\ndesign: factorial\nfactors:\n  townships.east.windows.G1: [1, 2]\n"
        "replications: 1\nkpis: [wait_mean]\nsets: [horizon.days=3, horizon.warmup_days=1, horizon.drain_days=2]\n",
        encoding="utf-8")
    return results_dirs(base, {"run": ["run", SMALL, *SHORT, "--records"],
                               "compare": ["compare", SMALL, base / "more.yaml", *SHORT],
                               "sweep": ["sweep", base / "exp.yaml"]})


def copy(dirs, kind, tmp_path):
    target = tmp_path / kind
    shutil.copytree(dirs[kind], target)
    return target


def refused(target, file, start: str) -> None:
    """`report` and `plot` of the directory: exit 2, one line naming the file."""
    for command in (["report", target], ["plot", target, "--kind", "waits"]):
        result = invoke(*command)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"{target / file}: {start}"), result.stderr


WRONG = [12345, "x", [1], {"a": 1}, None, True]


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_every_manifest_key_of_the_wrong_type_is_refused_or_harmless(dirs, tmp_path, kind):
    """Each key of a real manifest set to values of every JSON type: `read` and the report's text
    either accept it or refuse it with OutputError naming the key; a typed key refuses some."""
    from simcenter import report

    target = copy(dirs, kind, tmp_path)
    original = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    for key in original:
        outcomes = []
        for value in WRONG:
            (target / "manifest.json").write_text(json.dumps({**original, key: value}), encoding="utf-8")
            try:
                report.build(target, with_figures=False)
                outcomes.append("ok")
            except OutputError as e:
                assert str(e).startswith(f"{target / 'manifest.json'}: {key}: ") and "\n" not in str(e)
                outcomes.append("refused")
        if key in MANIFEST_KEYS:
            assert "refused" in outcomes, key


@pytest.mark.parametrize("content, start", [
    ("{", "unreadable manifest, expected JSON (got "),
    ("[1, 2]", "unreadable manifest, expected a JSON object (got [1, 2])"),
    ('{"tool": "simcenter"}', "argv: a list of texts (got no argv)"),
    ('{"tool": "simcenter", "argv": [], "scenarios": "small"}', 'scenarios: a list of objects with a name (got "small")'),
])
def test_an_odd_manifest_exits_2(dirs, tmp_path, content, start):
    target = copy(dirs, "compare", tmp_path)
    (target / "manifest.json").write_text(content, encoding="utf-8")
    refused(target, "manifest.json", start)


def _empty(frame):
    return frame.iloc[:0]


def _without_replication(frame):
    return frame.drop(columns="replication")


def _text_kpi(frame):
    return frame.assign(wait_mean=frame["wait_mean"].astype(str))


def _no_scenario(frame):
    return frame.drop(columns="scenario")


@pytest.mark.parametrize("file, change, start", [
    ("kpis.parquet", _empty, "a row per replication (got 0 rows)"),
    ("kpis.parquet", _without_replication, "a column replication (got columns "),
    ("kpis.parquet", _text_kpi, "column wait_mean: numbers, a KPI (got "),
    ("kpis_by_township.parquet", _no_scenario, "a scenario or point column (got columns "),
    ("kpis_by_hour.parquet", lambda f: f.assign(hour=f["hour"].astype(float)), "column hour: integers (got float64)"),
    ("summary.csv", lambda f: f.drop(columns="ci_low"), "a column ci_low (got columns "),
    ("comparison.csv", lambda f: f.assign(difference="big"), "column difference: numbers (got "),
])
def test_a_table_of_the_wrong_schema_exits_2(dirs, tmp_path, file, change, start):
    target = copy(dirs, "compare", tmp_path)
    path = target / file
    if path.suffix == ".parquet":
        change(pd.read_parquet(path)).to_parquet(path, index=False)
    else:
        change(pd.read_csv(path)).to_csv(path, index=False)
    refused(target, file, start)


@pytest.mark.parametrize("file", ["kpis.parquet", "kpis_by_township.parquet", "wait_histogram.parquet"])
def test_a_truncated_parquet_file_exits_2(dirs, tmp_path, file):
    target = copy(dirs, "compare", tmp_path)
    data = (target / file).read_bytes()
    (target / file).write_bytes(data[: len(data) // 2])
    refused(target, file, "a parquet table (got ")


def test_a_sweep_kpis_table_needs_integer_points(dirs, tmp_path):
    target = copy(dirs, "sweep", tmp_path)
    frame = pd.read_parquet(target / "kpis.parquet")
    frame.assign(point=frame["point"].astype(str)).to_parquet(target / "kpis.parquet", index=False)
    refused(target, "kpis.parquet", "column point: integers (got ")


def test_records_carry_the_domain_labels(dirs):
    """visits and cases hold labels; each label is the model's code for the same record, named by the
    enum (or the scenario's township and item ids) in a run of the same scenario and seed."""
    from simcenter import runner
    from simcenter.resolve import load_scenario

    visits = pd.read_parquet(dirs["run"] / "visits.parquet")
    cases = pd.read_parquet(dirs["run"] / "cases.parquet")
    assert list(visits["outcome"].cat.categories) == [o.name.lower() for o in Outcome]
    assert list(cases["route"].cat.categories) == [r.name.lower() for r in Route]
    spec = load_scenario(str(SMALL), [f"{k}" for k in SHORT[3::2]] + ["replications=2"])
    model = runner.run(spec, keep_records=True).records
    for r, records in enumerate(model):
        mine = visits[visits["replication"] == r]
        assert list(mine["outcome"]) == [Outcome(c).name.lower() for c in records.visits["outcome"]]
        assert list(mine["township"]) == [list(spec.townships)[t] for t in records.visits["township"]]
        kind_group = records.meta.kind_group
        assert list(mine["group"]) == [list(spec.window_groups)[kind_group[t][k]]
                                       for t, k in zip(records.visits["township"], records.visits["kind"])]
        theirs = cases[cases["replication"] == r]
        assert list(theirs["route"]) == [Route(c).name.lower() for c in records.cases["route"]]
        assert list(theirs["item"]) == [list(spec.items)[i] for i in records.cases["item"]]
        assert np.array_equal(theirs["lead_days"].to_numpy(), records.cases["lead_days"], equal_nan=True)
    assert set(cases["handler"]) <= {"citizen", "agent_visits", "mobile_service"}
    assert {"submit"} <= set(visits["purpose"]) and {"first"} <= set(visits["cause"])


def test_the_visits_reader_checks_the_columns(dirs, tmp_path):
    target = copy(dirs, "run", tmp_path)
    visits = pd.read_parquet(target / "visits.parquet")
    visits.assign(outcome=visits["outcome"].cat.codes.astype("int64")).to_parquet(target / "visits.parquet")
    with pytest.raises(OutputError, match="visits.parquet: column outcome: texts"):
        resultsdir.read(target).visits(["replication", "township", "arrive", "called", "done", "outcome"])
    result = invoke("plot", target, "--kind", "queue")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
