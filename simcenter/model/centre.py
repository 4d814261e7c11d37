"""The township hall: tickets, windows, who is called next, opening hours and absences.

A ticket waits for the first free window that accepts its kind of business; a window that
frees up calls the longest-waiting ticket it accepts (FIFO among eligible tickets). This is
a plain M/M/c queue when every window accepts everything, and dedicated queues per window
group when the groups are disjoint.
"""

from __future__ import annotations

SENT_HOME = -1  # the value a ticket's call carries when the centre closes before calling it
RENEGED = -2  # ... and when the citizen gave up waiting


class Window:
    __slots__ = ("index", "group", "factor", "accepts", "free", "away", "leave_pending", "released")

    def __init__(self, index: int, group: int, factor: float, accepts: list[bool]):
        self.index, self.group, self.factor, self.accepts = index, group, factor, accepts
        self.free = True
        self.away = False
        self.leave_pending = False
        self.released = None  # event: the citizen at the window is done and the clerk may leave


class Ticket:
    __slots__ = ("kind", "called", "number")

    def __init__(self, kind: int, called, number: int):
        self.kind, self.called, self.number = kind, called, number


class Centre:
    """One township's hall. `kind` is an item index, or the consultation kind."""

    def __init__(self, env, calendar, windows: list[Window], eligible: list[tuple[int, ...]], balk_queue_length):
        self.env = env
        self.calendar = calendar
        self.windows = windows
        self.eligible = eligible  # kind -> indices of windows that accept it
        self.balk_queue_length = balk_queue_length
        # kinds whose tickets compete with a kind's (share a window): the queue ahead of a citizen
        kinds = range(len(eligible))
        self.rivals = [[k for k in kinds if set(eligible[k]) & set(eligible[kind])] for kind in kinds]
        self.waiting = [0] * len(eligible)  # waiting tickets per kind
        self.queue: list[Ticket] = []
        self.calling = False
        self.issued = 0
        self.queue_area = 0.0  # ∫ queue length dt: Little's law checks and queue-length KPIs
        self._queue_since = 0.0
        self.away_log: list[tuple[int, float, float]] = []  # (window, from, to), for checks

    # -- a citizen's side ----------------------------------------------------------------
    def take_ticket(self, kind: int) -> Ticket | None:
        """A ticket for `kind`, or None if the citizen balks at the queue ahead."""
        eligible = self.eligible[kind]
        if self.balk_queue_length is not None and self.queue_ahead(kind) >= self.balk_queue_length:
            return None
        self.issued += 1
        ticket = Ticket(kind, self.env.event(), self.issued)
        if self.calling:
            for w in eligible:
                window = self.windows[w]
                if window.free and not window.away:
                    window.free = False
                    ticket.called.succeed(w)
                    return ticket
        self._queue_changes()
        self.queue.append(ticket)
        self.waiting[kind] += 1
        return ticket

    def queue_ahead(self, kind: int) -> int:
        """Waiting tickets that one of this kind's windows could call before this one."""
        waiting = self.waiting
        return sum(waiting[k] for k in self.rivals[kind])

    def renege(self, ticket: Ticket, _timer=None) -> None:
        """The citizen's patience ran out (a timer callback): leave the queue unless already called."""
        if not ticket.called.triggered:
            self._queue_changes()
            self.queue.remove(ticket)
            self.waiting[ticket.kind] -= 1
            ticket.called.succeed(RENEGED)

    def _queue_changes(self) -> None:
        now = self.env.now
        self.queue_area += len(self.queue) * (now - self._queue_since)
        self._queue_since = now

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
    def _call_next(self, window: Window) -> None:
        if not self.calling or window.away:
            return
        accepts = window.accepts
        for i, ticket in enumerate(self.queue):
            if accepts[ticket.kind]:
                self._queue_changes()
                del self.queue[i]
                self.waiting[ticket.kind] -= 1
                window.free = False
                ticket.called.succeed(window.index)
                return

    def _call_all(self) -> None:
        for window in self.windows:
            if window.free and not window.away:
                self._call_next(window)

    def opening_hours(self, until: float):
        """Process: open, call tickets to overtime after each session, send the rest home at night."""
        cal, env = self.calendar, self.env
        for opens, closes in zip(cal.opens, cal.closes):
            if opens >= until:
                return
            if opens > env.now:
                yield env.timeout(opens - env.now)
            self.calling = True
            self._call_all()
            stop = min(closes + cal.overtime, until)
            yield env.timeout(stop - env.now)
            self.calling = False
            if cal.is_last_session(closes):
                self._queue_changes()
                queue, self.queue = self.queue, []
                self.waiting = [0] * len(self.waiting)
                for ticket in queue:
                    ticket.called.succeed(SENT_HOME)

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
