"""Waits that end in a later hour, kept out of SimPy's event queue until that hour begins.

A county-year has thousands of cases waiting days or weeks at once: to come back, for the
shuttle, for a review, for sign-offs. As timeouts they would all sit in SimPy's event heap,
and every event of every day would pay for a heap that deep (popping it took a seventh of a
county-year's model time). The diary keeps each such wait in a list for its hour and hands the
hour's list to SimPy when the hour begins, in the order the waits were written, so waits
ending at the same moment keep the order they would have had as timeouts.

An arrival, likewise, is one event: the timeout that starts a citizen's journey (`Arrival`).
"""

from __future__ import annotations

from simpy.events import NORMAL, Event, Process, Timeout

HOUR = 60.0


class Wait(Event):
    """A timeout to clock time `at` that SimPy schedules only in the hour of `at`.

    Like SimPy's Timeout it is triggered (ok, no value) when created; it is processed at `at`.
    """

    def __init__(self, env, at: float):
        self.env, self.callbacks, self.at = env, [], at
        self._ok, self._value = True, None  # what Timeout.__init__ sets, without scheduling


class Diary:
    """`until(t)`: the model's one way to wait for a clock time, minutes or weeks ahead."""

    def __init__(self, env, end: float):
        self.env, self.end = env, end  # the run stops at `end`: later waits are never scheduled
        self.next_hour = HOUR  # waits ending before it go to SimPy at once
        self.hours: dict[int, list[Wait]] = {}
        env.process(self._hours())

    def until(self, t: float):
        """An event processed at clock time t (at once if t is not after now)."""
        env = self.env
        if t < self.next_hour:
            return env.timeout(max(t - env.now, 0.0))
        wait = Wait(env, t)
        if t >= self.end:
            return wait
        hour = int(t // HOUR)
        waits = self.hours.get(hour)
        if waits is None:
            self.hours[hour] = [wait]
        else:
            waits.append(wait)
        return wait

    def _hours(self):
        """Process: as each hour begins, its waits join SimPy's queue (at their exact times:
        start + (t − start) is t for t within the hour)."""
        env = self.env
        while True:
            yield env.timeout(self.next_hour - env.now)
            hour = int(self.next_hour // HOUR)
            self.next_hour += HOUR
            for wait in self.hours.pop(hour, ()):
                env.schedule(wait, NORMAL, wait.at - env.now)


class Arrival(Process):
    """A process that starts `delay` minutes from now: SimPy's Process whose first event is a
    Timeout instead of its Initialize, so that a citizen's arrival and the start of their
    journey are one event. `arrived(event)` is called first, then the journey starts."""

    def __init__(self, env, generator, delay: float, arrived):
        self.env, self.callbacks, self._generator = env, [], generator
        self._target = Timeout(env, delay)
        self._target.callbacks += (arrived, self._resume)
