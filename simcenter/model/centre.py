"""The township hall: tickets, windows, who is called next, opening hours and absences.

A ticket waits for the first free window that accepts its kind of business; a window that
frees up calls the longest-waiting ticket it accepts (FIFO among eligible tickets; citizens
with an appointment first). This is a plain M/M/c queue when every window accepts
everything, and dedicated queues per window group when the groups are disjoint.

A window can be unable to call for four reasons: its clerk is away (availability), it is off
duty (a seasonal window out of season, or a regular window over lunch while an extended-hours
window stays open), it is a standby window whose queue is short, or it is reserved for
appointments and only walk-ins wait.
"""

from __future__ import annotations

from enum import IntEnum

class Call(IntEnum):
    """What a ticket's call carries when it is not a window's index."""

    SENT_HOME = -1  # the centre closed before calling it
    RENEGED = -2  # the citizen gave up waiting


SENT_HOME, RENEGED = int(Call.SENT_HOME), int(Call.RENEGED)  # plain ints on the hot path


class Window:
    __slots__ = ("index", "group", "factor", "accepts", "free", "away", "leave_pending", "released",
                 "off_duty", "months", "lunch", "booked_only", "standby", "opened")

    def __init__(self, index: int, group: int, factor: float, accepts: list[bool], months=None, lunch=False,
                 booked_only=False, standby=None):
        self.index, self.group, self.factor, self.accepts = index, group, factor, accepts
        self.months, self.lunch, self.booked_only, self.standby = months, lunch, booked_only, standby
        self.free = True
        self.away = False
        self.off_duty = False
        self.opened = False  # a standby window that its queue has opened
        self.leave_pending = False
        self.released = None  # event: the citizen at the window is done and the clerk may leave


class Ticket:
    """A citizen's place in the queue. A ticket a free window takes at once has no `called`
    event, only its `window` (an event per visit is a third of a short visit's cost)."""

    __slots__ = ("kind", "called", "booked", "window")

    def __init__(self, kind: int, called, booked: bool, window: int = -1):
        self.kind, self.called, self.booked, self.window = kind, called, booked, window

    def is_called(self) -> bool:
        return self.called is None or self.called.triggered

    def called_by(self) -> int:
        """The window that called it (or a Call); only once is_called()."""
        return self.window if self.called is None else self.called.value


class Centre:
    """One township's hall. A ticket's `kind` is an item, a consultation, or an item's pickup."""

    def __init__(self, env, calendar, windows: list[Window], eligible: list[tuple[int, ...]], balk_queue_length):
        self.env = env
        self.calendar = calendar
        self.windows = windows
        self.eligible = eligible  # kind -> indices of windows that accept it
        self.balk_queue_length = balk_queue_length
        # Waiting tickets are counted per set of eligible windows (a handful of sets, however
        # many kinds): the queue ahead of a citizen is the tickets whose sets share a window.
        sets = sorted(set(eligible))
        self.set_of = [sets.index(e) for e in eligible]
        self.rivals = [[j for j, other in enumerate(sets) if set(other) & set(mine)] for mine in sets]
        self.window_sets = [[j for j, s in enumerate(sets) if w.index in s] for w in windows]
        self.standby = [w for w in windows if w.standby is not None]
        self.has_lunch_windows = any(w.lunch for w in windows)
        self.waiting = [0] * len(sets)  # waiting tickets per set of eligible windows
        self.single_queue = len(sets) == 1
        self.set_group = [windows[s[0]].group if s else -1 for s in sets]  # a set's queue is its first window's group
        # ∫ waiting tickets dt per (set, clock hour) within the measurement window (kpis_by_hour)
        self.hourly_area = [0.0] * (len(sets) * 24)
        self.measured = (calendar.warmup_end, calendar.arrivals_end) if calendar is not None else (0.0, 0.0)
        self.queue: list[Ticket] = []  # booked tickets first, each part in arrival order
        self.booked_waiting = 0
        self.calling = False
        self.queue_area = 0.0  # ∫ queue length dt: Little's law checks and queue-length KPIs
        self._queue_since = 0.0
        self.away_log: list[tuple[int, float, float]] = []  # (window, from, to), for checks

    # -- a citizen's side ----------------------------------------------------------------
    def take_ticket(self, kind: int, booked: bool = False, may_balk: bool = True) -> Ticket | None:
        """A ticket for `kind`, or None if the citizen balks at the queue ahead (booked citizens and
        village agents never do)."""
        if may_balk and not booked and self.balk_queue_length is not None \
                and self.queue_ahead(kind) >= self.balk_queue_length:
            return None
        if self.calling:
            for w in self.eligible[kind]:
                window = self.windows[w]
                if (window.free and not window.away and not window.off_duty and (booked or not window.booked_only)
                        and (window.standby is None or self._standby_opens(window))):
                    window.free = False
                    return Ticket(kind, None, booked, w)
        ticket = Ticket(kind, self.env.event(), booked)
        self._queue_changes()
        if booked:
            self.queue.insert(self.booked_waiting, ticket)
            self.booked_waiting += 1
        else:
            self.queue.append(ticket)
        self.waiting[self.set_of[kind]] += 1
        for window in self.standby:
            if window.free and window.accepts[kind]:
                self._call_next(window)
        return ticket

    def queue_ahead(self, kind: int) -> int:
        """Waiting tickets that one of this kind's windows could call before this one."""
        waiting = self.waiting
        return sum(waiting[j] for j in self.rivals[self.set_of[kind]])

    def renege(self, ticket: Ticket, _timer=None) -> None:
        """The citizen's patience ran out (a timer callback): leave the queue unless already called."""
        if not ticket.called.triggered:
            self._queue_changes()
            self.queue.remove(ticket)
            self._left(ticket)
            ticket.called.succeed(RENEGED)

    def window_done(self, w: int) -> None:
        """The citizen at window w leaves: the window goes away if due, else calls the next."""
        window = self.windows[w]
        window.free = True
        if window.leave_pending:
            window.leave_pending = False
            window.away = True
            window.released.succeed()
            return
        self._call_next(window)

    # -- the centre's side ---------------------------------------------------------------
    def _standby_opens(self, window: Window) -> bool:
        """A standby window calls once enough wait for it, and until nobody is left for it."""
        if not window.opened:
            waiting = self.waiting
            window.opened = sum(waiting[j] for j in self.window_sets[window.index]) >= window.standby
        return window.opened

    def _call_next(self, window: Window) -> None:
        if not self.queue:
            window.opened = False  # nobody left for it: a standby window closes again
            return
        if (not self.calling or window.away or window.off_duty
                or window.standby is not None and not self._standby_opens(window)):
            return
        accepts, walk_ins = window.accepts, not window.booked_only
        for i, ticket in enumerate(self.queue):
            if accepts[ticket.kind] and (walk_ins or ticket.booked):
                self._queue_changes()
                del self.queue[i]
                self._left(ticket)
                window.free = False
                ticket.called.succeed(window.index)
                return
        window.opened = False  # nobody left for it: a standby window closes again

    def _left(self, ticket: Ticket) -> None:
        self.waiting[self.set_of[ticket.kind]] -= 1
        if ticket.booked:
            self.booked_waiting -= 1

    def _queue_changes(self) -> None:
        now, since = self.env.now, self._queue_since
        if self.queue and now > since:
            self.queue_area += len(self.queue) * (now - since)
            hour = int(since // 60)
            if self.single_queue and now <= (hour + 1) * 60.0 and self.measured[0] <= since and now <= self.measured[1]:
                self.hourly_area[hour % 24] += self.waiting[0] * (now - since)  # one queue, within one hour
            else:
                self._by_hour(since, now)
        self._queue_since = now

    def _by_hour(self, since: float, now: float) -> None:
        start, end = max(since, self.measured[0]), min(now, self.measured[1])
        while start < end:
            hour = int(start // 60)
            stop = min(end, (hour + 1) * 60.0)
            slot = hour % 24
            for j, n in enumerate(self.waiting):
                if n:
                    self.hourly_area[j * 24 + slot] += n * (stop - start)
            start = stop

    def _call_all(self) -> None:
        for window in self.windows:
            if window.free:
                self._call_next(window)

    def opening_hours(self, until: float):
        """Process: open, call tickets to overtime after each session, send the rest home at night.

        Over lunch only extended-hours windows stay on duty (if there are any, the hall stays open).
        """
        cal, env = self.calendar, self.env
        for opens, closes in zip(cal.opens, cal.closes):
            if opens >= until:
                return
            if opens > env.now:
                yield env.timeout(opens - env.now)
            month = cal.month_at(opens)
            for window in self.windows:
                window.off_duty = window.months is not None and month not in window.months
            self.calling = True
            self._call_all()
            stop = min(closes + cal.overtime, until)
            yield env.timeout(stop - env.now)
            if cal.is_last_session(closes):
                self.calling = False
                self._queue_changes()
                queue, self.queue = self.queue, []
                self.waiting = [0] * len(self.waiting)
                self.booked_waiting = 0
                for ticket in queue:
                    ticket.called.succeed(SENT_HOME)
            elif self.has_lunch_windows:
                for window in self.windows:
                    window.off_duty = window.off_duty or not window.lunch
            else:
                self.calling = False

    def absences(self, window: Window, present, away):
        """Process: a window is staffed for spells of `present()` open minutes, then away `away()`."""
        cal, env = self.calendar, self.env
        while True:
            back_at = cal.after_open_minutes(env.now, present())
            yield env.timeout(back_at - env.now)
            if window.free:
                window.away = True
            else:  # the clerk leaves once the citizen at the window is done
                window.leave_pending = True
                window.released = env.event()
                yield window.released
            start = env.now
            end = cal.after_open_minutes(env.now, away())
            yield env.timeout(end - env.now)
            self.away_log.append((window.index, start, end))
            window.away = False
            if window.free:
                self._call_next(window)
