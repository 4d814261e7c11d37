"""Rows (dicts) → the bytes of a Parquet or CSV table, without pandas.

`simcenter run` writes a handful of small tables; importing pandas to write them costs more
(~0.4 s) than writing them. These functions write the same table that pandas writes from
`DataFrame(rows)`: the columns in order of first appearance, a column of Python ints as int64,
of texts as text, any other numbers as float64 with NaN as missing (null in Parquet, an empty
cell in CSV), floats in CSV as their shortest repr. `kinds` returns None for what it does not
decide (no rows, booleans, None among numbers, mixed types), and the caller lets pandas write it.
"""

from __future__ import annotations

import csv
import io
import math
from numbers import Integral, Real


def kinds(rows: list[dict]) -> dict[str, tuple[str, list]] | None:
    """Column → (kind: "integer", "number" or "text", its values), or None when not decided."""
    if not rows:
        return None
    names = dict.fromkeys(name for row in rows for name in row)
    out = {}
    for name in names:
        values = [row.get(name) for row in rows]
        kind = _kind(values)
        if kind is None:
            return None
        out[name] = (kind, values)
    return out


def _kind(values: list) -> str | None:
    if all(isinstance(v, str) for v in values):
        return "text"
    if any(isinstance(v, bool) or type(v).__name__ == "bool_" for v in values):
        return None
    if all(isinstance(v, Integral) for v in values):
        return "integer"
    if all(isinstance(v, Real) for v in values):
        return "number"
    return None


def parquet_bytes(columns: dict[str, tuple[str, list]]) -> bytes:
    """The columns of `kinds` as a Parquet file (snappy, as pandas writes it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([_arrow(kind, values) for kind, values in columns.values()], names=list(columns))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue().to_pybytes()


def _arrow(kind: str, values: list):
    """One column as an Arrow array made from its buffers (pa.array would import pandas): texts as
    large_string, numbers with NaN as null, as pandas hands them to Arrow."""
    import numpy as np
    import pyarrow as pa

    if kind == "text":  # never missing: `kinds` takes a column of texts only when all are str
        encoded = [v.encode("utf-8") for v in values]
        offsets = np.concatenate([[0], np.cumsum([len(b) for b in encoded])]).astype(np.int64)
        return pa.Array.from_buffers(pa.large_string(), len(values),
                                     [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])
    numbers = np.array(values, np.int64 if kind == "integer" else np.float64)
    missing = np.isnan(numbers) if kind == "number" else np.zeros(len(numbers), bool)
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.Array.from_buffers(pa.int64() if kind == "integer" else pa.float64(), len(numbers),
                                 [validity, pa.py_buffer(numbers)], null_count=int(missing.sum()))


def csv_bytes(columns: dict[str, tuple[str, list]]) -> bytes:
    """The columns of `kinds` as CSV (UTF-8, "\\n" line ends, quoted only where needed)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*([_cell(kind, v) for v in values] for kind, values in columns.values())))
    return text.getvalue().encode("utf-8")


def _cell(kind: str, value) -> str:
    if kind == "number":
        value = float(value)
        return "" if math.isnan(value) else repr(value)
    return str(int(value)) if kind == "integer" else value
