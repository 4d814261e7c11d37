"""How far a long command has got, on stderr: a rich bar on a terminal; without one (`> log 2>&1`,
CI, Slurm) a plain line every SIMCENTER_PROGRESS_SECONDS seconds (default 10), none for a shorter run:

    simcenter: 12/40 replications done, 1m05s elapsed, about 2m10s left

Standard library only at import (rich when a bar is shown): the command line checks the interval
before any command starts, and that must stay fast.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time

INTERVAL = "SIMCENTER_PROGRESS_SECONDS"
DEFAULT_SECONDS = 10.0


def interval() -> float:
    """Seconds between plain progress lines: $SIMCENTER_PROGRESS_SECONDS, else 10; ValueError if not > 0."""
    text = os.environ.get(INTERVAL)
    if text is None:
        return DEFAULT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{INTERVAL}={text}: seconds between progress lines, a number > 0 (got {text!r})")
    return seconds


def duration(seconds: float) -> str:
    """5s, 1m05s, 1h02m05s: whole seconds, as a clock reads."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    """Counts finished work (`progress(n)`, or `set(done, total)` when the total grows) and shows it
    on stderr while the `with` block runs."""

    def __init__(self, total: int, label: str, unit: str = "replications"):
        self.total, self.label, self.unit, self.done = total, label, unit, 0

    def __enter__(self) -> Progress:
        from rich.console import Console

        console = Console(stderr=True, markup=False, highlight=False, emoji=False)
        self.started = time.monotonic()
        self._bar = self._stop = None
        if console.is_terminal:
            self._start_bar(console)
        else:  # a log file: a line now and then, from a thread, so a long task does not silence it
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._lines, args=(sys.stderr, interval()), daemon=True)
            self._thread.start()
        return self

    def __call__(self, n: int = 1) -> None:
        self.done += n
        if self._bar:
            self._bar.advance(self._task, n)

    def set(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self._bar:
            self._bar.update(self._task, completed=done, total=total)

    def start(self, total: int) -> None:
        """A new stage of `total` (a staffing search's next county run): counts and clock from zero."""
        self.started = time.monotonic()
        self.set(0, total)

    def __exit__(self, *exc) -> bool:
        if self._bar:
            self._bar.stop()
        if self._stop:
            self._stop.set()
            self._thread.join()
        return False

    def line(self) -> str:
        """simcenter: 12/40 replications done, 1m05s elapsed, about 2m10s left."""
        elapsed = time.monotonic() - self.started
        text = f"simcenter: {self.done}/{self.total} {self.unit} done, {duration(elapsed)} elapsed"
        if 0 < self.done < self.total:  # the rest at the pace so far
            text += f", about {duration(elapsed * (self.total - self.done) / self.done)} left"
        return text

    def _start_bar(self, console) -> None:
        from rich.progress import Progress as Bar

        self._bar = Bar(console=console, transient=True)
        self._bar.start()
        self._task = self._bar.add_task(f"{self.label}: {self.unit}", total=self.total)

    def _lines(self, stream, seconds: float) -> None:
        while not self._stop.wait(seconds):
            if self.done < self.total:  # else the command is past this stage, with nothing to count
                print(self.line(), file=stream, flush=True)
