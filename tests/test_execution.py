"""The execution engine (simcenter.execution): worker count, names, task order, failures and
cancellation, and the error without Dask. Tasks are builtins (`eval` of a small expression),
so worker processes need nothing from the tests."""

from __future__ import annotations

import os
import sys
import time

import pytest

from simcenter import execution
from simcenter.execution import open_executor, workers
from simcenter.results import OutputError


def _sleep_then(seconds: float, value: int) -> tuple[str]:
    return (f"__import__('time').sleep({seconds}) or {value}",)


def test_one_rule_for_the_number_of_workers():
    assert workers(3) == 3 and workers(3, tasks=2) == 2 and workers(1, tasks=10) == 1
    assert workers(0) == (os.cpu_count() or 1) and workers(0, tasks=1) == 1


@pytest.mark.parametrize("jobs, tasks, name", [(1, None, "in-process"), (2, 1, "in-process"), (2, 5, "processes:2")])
def test_executor_names(jobs, tasks, name):
    with open_executor(jobs, tasks=tasks) as engine:
        assert engine.name == name and engine.versions == {}


def test_in_process_runs_each_task_when_asked():
    ran = []
    with open_executor(1) as engine:
        results = engine.map_ordered(lambda x: ran.append(x) or x * x, [(1,), (2,), (3,)])
        assert next(results) == 1 and ran == [1]
        assert list(results) == [4, 9] and ran == [1, 2, 3]


def test_results_come_in_task_order_whatever_finishes_first():
    tasks = [_sleep_then(0.6 - 0.1 * i, i) for i in range(6)]  # the later tasks finish first
    done = []
    with open_executor(2, tasks=len(tasks)) as engine:
        assert list(engine.map_ordered(eval, tasks, progress=done.append)) == list(range(6))
        assert done == [1] * 6
        finished = [index for index, future in engine.as_completed(eval, tasks)]
    assert sorted(finished) == list(range(6))


def test_a_failure_is_delivered_with_its_task():
    with open_executor(1) as engine:
        outcomes = {i: f.exception() for i, f in engine.as_completed(eval, [("1",), ("1/0",), ("3",)])}
    assert outcomes[0] is None and isinstance(outcomes[1], ZeroDivisionError) and outcomes[2] is None


def test_a_failure_raises_and_stops_the_other_tasks():
    """The waiting tasks are cancelled and the running ones stopped: no waiting for 30 s tasks."""
    tasks = [("1/0",)] + [_sleep_then(30, i) for i in range(4)]
    start = time.perf_counter()
    with pytest.raises(ZeroDivisionError):
        with open_executor(2, tasks=len(tasks)) as engine:
            list(engine.map_ordered(eval, tasks))
    assert time.perf_counter() - start < 15


def test_scheduler_without_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    with pytest.raises(OutputError, match=r'--scheduler needs Dask: pip install "simcenter\[dask\]"'):
        open_executor(1, "tcp://127.0.0.1:1")


@pytest.mark.parametrize("address, problem", [("nonsense://x:1", "unknown address scheme 'nonsense'"),
                                              ("tcp://127.0.0.1:port", "invalid literal for int()")])
def test_an_unreadable_scheduler_address_is_one_clear_line(address, problem):
    pytest.importorskip("distributed")
    with pytest.raises(OutputError) as refused:
        open_executor(1, address)
    message = str(refused.value)
    assert message.startswith(f"--scheduler {address}: a Dask scheduler's address, e.g. tcp://127.0.0.1:8786 "
                              f"(got {address!r}: ") and problem in message and "\n" not in message


def test_a_scheduler_that_does_not_answer_is_one_clear_line(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(execution, "CONNECT_SECONDS", 1)
    with pytest.raises(OutputError, match=r"^--scheduler tcp://127\.0\.0\.1:1: a running Dask scheduler, "
                                          r"answering within 1 s \(got Timed out .*\)$"):
        open_executor(1, "tcp://127.0.0.1:1")
