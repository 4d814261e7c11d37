"""Random streams are distinct for the largest scenario validation lets through.

`stream_id` packs (purpose, township, sub) in base 1000: it is one-to-one only while a township's
index and a window's index stay below 1000, which the scenario bounds guarantee (at most 999
townships, at most 999 windows in a township: tests/bad_input/range_windows_*)."""

from __future__ import annotations

import numpy as np

from simcenter.model.streams import Stream, generator, stream_id
from simcenter.scenario import schema


def every_stream(townships: int, windows: int) -> list[int]:
    """Each stream the model opens in a replication: one per township and purpose, and one per
    window for absences (simcenter/model/county.py)."""
    ids = []
    for town in range(townships):
        for purpose in Stream:
            subs = range(windows) if purpose == Stream.ABSENCES else [0]
            ids += [stream_id(purpose, town, sub) for sub in subs]
    return ids


def test_streams_are_distinct_at_the_largest_scenario():
    ids = every_stream(schema.MAX_TOWNSHIPS, schema.MAX_WINDOWS)
    assert len(ids) == schema.MAX_TOWNSHIPS * (len(Stream) - 1 + schema.MAX_WINDOWS)
    assert len(set(ids)) == len(ids)


def test_the_packing_collides_just_past_the_bounds():
    """What the bounds guard against: this test fails if stream_id stops being base-1000 packing
    (then the bound and its test need a fresh look)."""
    assert stream_id(Stream.ABSENCES, 0, 1000) == stream_id(Stream.ABSENCES, 1, 0)
    assert stream_id(Stream.ARRIVALS, 1000) == stream_id(Stream.CASES, 0)
    assert 1000 > schema.MAX_TOWNSHIPS and 1000 > schema.MAX_WINDOWS


def test_streams_follow_the_documented_scheme():
    """Today's streams, written out by hand from docs/model.md's scheme: bounding the indices
    changed no random number the model draws (the golden KPIs pin them too, through the model)."""
    for replication, purpose, town, sub, key in [(0, Stream.ARRIVALS, 0, 0, 1_000_000), (3, Stream.ABSENCES, 17, 5, 4_017_005),
                                                 (9, Stream.LUNCH, 998, 0, 6_998_000), (1, Stream.ABSENCES, 998, 998, 4_998_998)]:
        assert stream_id(purpose, town, sub) == key
        by_hand = np.random.Generator(np.random.PCG64(np.random.SeedSequence(2019, spawn_key=(replication, key))))
        assert generator(2019, replication, stream_id(purpose, town, sub)).random(4).tolist() == by_hand.random(4).tolist()
