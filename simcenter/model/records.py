"""What a replication leaves behind: compact columns per visit, per case and per file.

Plain Python lists while the model runs (appending is the cheapest thing on the hot path),
numpy arrays when it ends. No pandas here: the model knows nothing about tables.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from enum import IntEnum
from struct import Struct

import numpy as np

class Purpose(IntEnum):
    """Why a visit is made (REFERRAL: a further item of a one-matter case at another window)."""

    SUBMIT = 0
    SUPPLEMENT = 1
    PICKUP = 2
    CONSULT = 3
    REFERRAL = 4
    OUT_OF_SCOPE_VISIT = 5


class Cause(IntEnum):
    """Why a trip was made. The official "run at most once" count starts at the trip on which the
    documents were accepted; SAME_TRIP is another window during a trip already made."""

    FIRST = 0
    INCOMPLETE_RETURN = 1
    ABANDON_RETURN = 2
    SUPPLEMENT_TRIP = 3
    PICKUP_TRIP = 4
    REFERRAL_TRIP = 5
    SAME_TRIP = 6


class Outcome(IntEnum):
    """How a visit ended."""

    SERVED = 0
    BALKED = 1
    RENEGED = 2
    SENT_HOME = 3


class Status(IntEnum):
    """How a case ended: OPEN, still under way at the horizon; ELSEWHERE, after balking or
    reneging the citizen finished another way (online, an agent, the county hall)."""

    OPEN = 0
    COMPLETED = 1
    DROPPED = 2
    ELSEWHERE = 3


class Route(IntEnum):
    """Who decides (OUT_OF_SCOPE: a request the township cannot accept, sent to the county)."""

    IMMEDIATE = 0
    TOWNSHIP = 1
    COUNTY = 2
    OUT_OF_SCOPE = 3


# The codes as plain ints under their own names, in each enum's order: what the hot path stores
# and compares (an IntEnum member costs a conversion per element when the lists become arrays).
SUBMIT, SUPPLEMENT, PICKUP, CONSULT, REFERRAL, OUT_OF_SCOPE_VISIT = map(int, Purpose)
FIRST, INCOMPLETE_RETURN, ABANDON_RETURN, SUPPLEMENT_TRIP, PICKUP_TRIP, REFERRAL_TRIP, SAME_TRIP = map(int, Cause)
SERVED, BALKED, RENEGED, SENT_HOME = map(int, Outcome)
OPEN, COMPLETED, DROPPED, ELSEWHERE = map(int, Status)
IMMEDIATE, TOWNSHIP, COUNTY, OUT_OF_SCOPE = map(int, Route)

VISIT_COLUMNS = ("township", "case", "kind", "purpose", "cause", "arrive", "called", "done", "outcome", "window", "patience")
CASE_COLUMNS = ("township", "item", "route", "created", "status", "end", "trips", "official_trips", "visits",
                "county_trips", "matter_items", "referrals", "handler", "booked", "travel_minutes", "travel_km",
                "lead_days", "decision_days", "promised_days")
FILE_COLUMNS = ("township", "start", "end")
VISIT_ROW = Struct(f"{len(VISIT_COLUMNS)}d")  # a visit as doubles: packed in C, unlike array.extend's per-item parsing


@dataclass
class RunMeta:
    """What the KPIs need to know about the run besides its records: the measurement window,
    the opening hours and each township's staffing and offices."""

    warmup_end: float
    arrivals_end: float
    days: int  # measured working days
    open_minutes: float  # open minutes over the measurement window
    first_open: float  # minute of the day the hall first opens
    sessions: list  # [(open, close)] minutes of the day
    start_ordinal: int  # date ordinal of the run's first day
    townships: list[str]
    groups: list[str]  # window groups by index
    departments: list[str]
    reviewers: list[float]  # per township
    # per office over the measurement window: (reviewers, busy seat-minutes, seats, ∫ waiting files dt)
    township_offices: list[tuple]
    county_offices: list[tuple]
    # per township: (every, phase of the date's ordinal) of its market days, or None
    market_days: list = field(default_factory=list)
    lunch_groups: list[int] = field(default_factory=list)  # window groups open through lunch
    # per township and window: the share of measured days it is on duty (seasonal windows), or
    # None for a standby window (staffed only while open: counted by its busy time)
    window_duty: list[list] = field(default_factory=list)
    # per township: the window group a ticket of each kind queues for (its first window's)
    kind_group: list[list[int]] = field(default_factory=list)
    # per township: {(group, clock hour): ∫ waiting dt} over the measurement window
    queue_by_hour: list[dict] = field(default_factory=list)


@dataclass
class Records:
    visits: dict[str, list] = field(default_factory=lambda: {c: [] for c in VISIT_COLUMNS})
    cases: dict[str, list] = field(default_factory=lambda: {c: [] for c in CASE_COLUMNS})
    township_files: dict[str, list] = field(default_factory=lambda: {c: [] for c in FILE_COLUMNS})
    county_files: dict[str, list] = field(default_factory=lambda: {c: [] for c in FILE_COLUMNS})
    absences: list[tuple[int, int, float, float]] = field(default_factory=list)  # (township, window, from, to)
    windows: list[list[int]] = field(default_factory=list)  # per township: group index of each window
    meta: RunMeta | None = None
    # the visits as one flat array of doubles, VISIT_COLUMNS after VISIT_COLUMNS (every field is a
    # number; codes and counts are exact as doubles): 88 bytes a visit, never scanned by the GC
    visit_rows: array = field(default_factory=lambda: array("d"))

    def __post_init__(self):
        # visit(VISIT_ROW.pack(township, case, kind, purpose, cause, arrive, called, done, outcome,
        # window, patience)): the array's own frombytes, no Python frame of ours, once per visit
        self.visit = self.visit_rows.frombytes

    def file_opened(self, where: dict, township: int, start: float) -> int:
        """A file enters a back office; its end stays NaN while it is there."""
        where["township"].append(township)
        where["start"].append(start)
        where["end"].append(float("nan"))
        return len(where["end"]) - 1

    def file_closed(self, where: dict, index: int, end: float) -> None:
        where["end"][index] = end

    def freeze(self) -> Records:
        """Lists → numpy arrays, once, at the end of the run."""
        if self.visit_rows:
            ints = {name for name in VISIT_COLUMNS if name not in _FLOATS}
            self.visits = columns_of(self.visit_rows, VISIT_COLUMNS, ints)  # the rows are left empty
        for table in (self.visits, self.cases, self.township_files, self.county_files):
            for name, values in table.items():
                table[name] = np.asarray(values, dtype=float if name in _FLOATS else np.int64)
        return self


def columns_of(rows: array, names: tuple[str, ...], ints=frozenset(), block: int = 1 << 16) -> dict[str, np.ndarray]:
    """Rows of doubles packed one after another → a numpy column per name (int64 for `ints`).

    Converted from the end, a block of rows at a time, the packed rows shrinking as the columns
    fill: a year's visits (tens of megabytes) are never held twice.
    """
    k = len(names)
    n = len(rows) // k
    columns = {name: np.empty(n, np.int64 if name in ints else float) for name in names}
    for start in range((n - 1) // block * block, -1, -block):
        part = np.frombuffer(rows, float, offset=start * k * 8).reshape(-1, k)
        for j, name in enumerate(names):
            columns[name][start:start + len(part)] = part[:, j]
        del part  # the buffer is released before the rows shrink
        del rows[start * k:]
    return columns


_FLOATS = {"arrive", "called", "done", "patience", "created", "end", "travel_minutes", "travel_km",
           "lead_days", "decision_days", "promised_days", "start"}
