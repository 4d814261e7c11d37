"""Random streams: one per township and purpose, the same in every scenario.

Every stream is `SeedSequence(seed, spawn_key=(replication, stream))` with
`stream = stream_id(purpose, township, sub)`, independent of the scenario's other settings, so
replication r of two scenarios sees the same citizens (common random numbers). The description
written into every manifest (SEED_SCHEME) is generated from the same table.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

# (purpose, number, what its numbers decide): the one place the stream purposes are defined
_STREAMS = (
    ("ARRIVALS", 1, "arrivals"),
    ("CASES", 2, "case attributes"),
    ("SPARE", 3, "spare case draws"),
    ("ABSENCES", 4, "window absences (sub = window)"),
    ("CONSULTATIONS", 5, "consultations"),
    ("LUNCH", 6, "moves to lunch time"),
)
Stream = IntEnum("Stream", [(name, number) for name, number, _ in _STREAMS])

SEED_SCHEME = ("SeedSequence(seed, spawn_key=(replication, stream)); "
               "stream = (purpose * 1000 + township) * 1000 + sub; purposes: "
               + ", ".join(f"{number} {what}" for _, number, what in _STREAMS))


def stream_id(purpose: int, township: int, sub: int = 0) -> int:
    return (int(purpose) * 1000 + township) * 1000 + sub


def generator(seed: int, replication: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, stream))))
