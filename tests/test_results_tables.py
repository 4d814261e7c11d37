"""Tables written from their rows without pandas (simcenter.tables, results.write_rows) are the
tables pandas writes of DataFrame(rows): CSV byte for byte, Parquet equal as read back."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from simcenter import tables
from simcenter.results import write_rows, write_table

ROWS = [  # what a KPI or detail table holds, and the corners of CSV and of float formatting
    {"scenario": "s, \"quoted\"", "replication": 0, "cases": 12, "wait_mean": 0.1, "share": math.nan,
     "mixed": 3, "big": np.float64(1e16), "small": 1e-5, "town": "灵溪镇\nline"},
    {"scenario": "plain", "replication": np.int64(1), "cases": 0, "wait_mean": -0.0, "share": math.inf,
     "mixed": 2.5, "big": 123456789012345.6, "small": 5e-324, "town": ""},
    {"scenario": "", "replication": 2, "cases": 2**62, "wait_mean": 1 / 3, "share": 0.0,
     "mixed": math.nan, "big": -1.7976931348623157e308, "small": 0.0001, "town": "a'b#c"},
]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], [{"flag": True, "x": 1.0}, {"flag": False, "x": 2.0}],
                                  [{"x": 1, "y": None}, {"x": 2, "y": 0.5}]], ids=["kpis", "one", "bool", "none"])
def test_rows_are_written_as_pandas_writes_them(tmp_path, rows, suffix):
    mine, theirs = tmp_path / f"mine{suffix}", tmp_path / f"pandas{suffix}"
    write_rows(mine, rows)
    write_table(theirs, pd.DataFrame(rows))
    if suffix == ".csv":
        assert mine.read_bytes() == theirs.read_bytes()
    else:
        got, want = pd.read_parquet(mine), pd.read_parquet(theirs)
        assert got.equals(want) and list(got.dtypes) == list(want.dtypes)
        assert pq.read_table(mine).equals(pq.read_table(theirs).replace_schema_metadata(None))


def test_only_plain_columns_are_written_without_pandas():
    assert tables.kinds(ROWS) is not None
    assert [kind for kind, _ in tables.kinds(ROWS).values()] == [
        "text", "integer", "integer", "number", "number", "number", "number", "number", "text"]
    for odd in ([], [{"flag": True}], [{"x": 1, "y": None}], [{"x": "a"}, {"x": 1}]):
        assert tables.kinds(odd) is None  # left to pandas
