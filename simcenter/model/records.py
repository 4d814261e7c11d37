"""What a replication leaves behind: compact columns per visit, per case and per file.

Plain Python lists while the model runs (appending is the cheapest thing on the hot path),
numpy arrays when it ends. No pandas here: the model knows nothing about tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# visit purposes (REFERRAL: a further item of a one-matter case at another window)
SUBMIT, SUPPLEMENT, PICKUP, CONSULT, REFERRAL, OUT_OF_SCOPE_VISIT = 0, 1, 2, 3, 4, 5
# why a trip was made (the official "run at most once" rate ignores INCOMPLETE_RETURN);
# SAME_TRIP: a visit to another window during the same trip (a referral: no new trip)
FIRST, INCOMPLETE_RETURN, ABANDON_RETURN, SUPPLEMENT_TRIP, PICKUP_TRIP, REFERRAL_TRIP, SAME_TRIP = 0, 1, 2, 3, 4, 5, 6
# how a visit ended
SERVED, BALKED, RENEGED, SENT_HOME = 0, 1, 2, 3
# how a case ended (OPEN: still under way at the horizon; ELSEWHERE: after balking or reneging
# the citizen finished another way (online, an agent, the county hall) instead of coming back)
OPEN, COMPLETED, DROPPED, ELSEWHERE = 0, 1, 2, 3
# routes (OUT_OF_SCOPE: a request the township cannot accept, redirected to the county)
IMMEDIATE, TOWNSHIP, COUNTY, OUT_OF_SCOPE = 0, 1, 2, 3

VISIT_COLUMNS = ("township", "case", "kind", "purpose", "cause", "arrive", "called", "done", "outcome", "window", "patience")
CASE_COLUMNS = ("township", "item", "route", "created", "status", "end", "trips", "official_trips", "visits",
                "county_trips", "matter_items", "referrals", "handler", "booked", "travel_minutes", "travel_km",
                "lead_days", "decision_days", "promised_days")
FILE_COLUMNS = ("township", "start", "end")


@dataclass
class Records:
    visits: dict[str, list] = field(default_factory=lambda: {c: [] for c in VISIT_COLUMNS})
    cases: dict[str, list] = field(default_factory=lambda: {c: [] for c in CASE_COLUMNS})
    township_files: dict[str, list] = field(default_factory=lambda: {c: [] for c in FILE_COLUMNS})
    county_files: dict[str, list] = field(default_factory=lambda: {c: [] for c in FILE_COLUMNS})
    absences: list[tuple[int, int, float, float]] = field(default_factory=list)  # (township, window, from, to)
    windows: list[list[int]] = field(default_factory=list)  # per township: group index of each window
    meta: dict = field(default_factory=dict)
    visit_rows: list[tuple] = field(default_factory=list)  # one tuple per visit; columns at freeze()

    def visit(self, *row) -> None:
        """(township, case, kind, purpose, cause, arrive, called, done, outcome, window, patience)."""
        self.visit_rows.append(row)

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
            for name, column in zip(VISIT_COLUMNS, zip(*self.visit_rows)):
                self.visits[name] = list(column)
            self.visit_rows = []
        for table in (self.visits, self.cases, self.township_files, self.county_files):
            for name, values in table.items():
                table[name] = np.asarray(values, dtype=float if name in _FLOATS else np.int64)
        return self


_FLOATS = {"arrive", "called", "done", "patience", "created", "end", "travel_minutes", "travel_km",
           "lead_days", "decision_days", "promised_days", "start"}
