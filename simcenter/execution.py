"""The one execution engine of `run`, `compare` and `sweep`: it opens an executor and runs tasks on it.

    with open_executor(jobs, scheduler) as engine:
        for result in engine.map_ordered(fn, [(arg, ...), ...]):   # in task order; a failure raises
            ...
        for index, future in engine.as_completed(fn, tasks):       # as they finish; future.result()
            ...

An executor is one of three, named in every manifest by `engine.name`:

- "in-process": one worker (`jobs` 1, or only one task); each task runs in this process when
  the caller asks for its result, so nothing runs ahead of what the caller has taken;
- "processes:N": a pool of N worker processes started by forkserver (spawn where there is no
  forkserver), never by forking a running interpreter; N = `jobs`, or one per core for
  `jobs` 0, and never more than the tasks the caller announced. The workers are not given the
  caller's `__main__` (those start methods would run the script again in each), so a script
  without `if __name__ == "__main__":` works;
- "dask:ADDRESS": a Dask distributed cluster (`scheduler`, e.g. tcp://127.0.0.1:8786), whose
  workers' package versions are checked against this process's and kept in `engine.versions`.
  Dask is an optional extra, imported only here.

A task is a tuple of arguments of `fn`, which must be importable by the workers (a module-level
function) for the pool and Dask. Results never depend on the executor: each task is a pure
function of its arguments. On Ctrl-C, an exception, or the caller leaving the loop, the tasks
not started are cancelled; leaving the `with` block shuts the pool down or closes the Dask
client. Left normally, the pool waits for the tasks still running; left by an exception
(Ctrl-C included), whose results nobody will take, its worker processes are terminated.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from multiprocessing import context as _mp

from .results import OutputError

IN_PROCESS = "in-process"
CONNECT_SECONDS = 20  # to reach a Dask scheduler


def workers(jobs: int, tasks: int | None = None) -> int:
    """Worker processes for `jobs` (0 = one per core), never more than `tasks` when given."""
    count = jobs or os.cpu_count() or 1
    return max(1, min(count, tasks)) if tasks is not None else count


def open_executor(jobs: int = 1, scheduler: str | None = None, tasks: int | None = None) -> Engine:
    """An Engine on a Dask cluster if `scheduler` is given, else on `workers(jobs, tasks)` processes
    (in-process for one). Use it as a context manager, which closes it."""
    if scheduler:
        return _dask(scheduler)
    count = workers(jobs, tasks)
    if count == 1:
        return Engine(IN_PROCESS)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    pool = ProcessPoolExecutor(max_workers=count, mp_context=_ForkServerWorkers() if forkserver else _SpawnWorkers())
    return Engine(f"processes:{count}", pool, close=lambda failed: _shut(pool, failed))


class Engine:
    """Runs tasks on one executor; `name` (for manifests) and `versions` (the Dask cluster's, else {})."""

    def __init__(self, name: str, pool: Executor | None = None, versions: dict | None = None,
                 close: Callable[[bool], None] = lambda failed: None):
        self.name = name
        self.versions = versions or {}
        self._pool = pool
        self._close = close

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, kind, *exc) -> None:
        self._close(kind is not None)

    def as_completed(self, fn: Callable, tasks: Iterable[tuple]) -> Iterator[tuple[int, Future]]:
        """(index of the task, its finished future) for every task as it finishes (in-process: in
        order, each run when asked for). A failing task's future holds its exception."""
        if self._pool is None:
            for index, args in enumerate(tasks):
                yield index, _run_here(fn, args)
            return
        futures = {self._pool.submit(fn, *args): index for index, args in enumerate(tasks)}
        try:
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future
        finally:  # Ctrl-C, a failure or the caller stopping early: start none of the waiting tasks
            for future in futures:
                future.cancel()

    def map_ordered(self, fn: Callable, tasks: Iterable[tuple],
                    progress: Callable[[int], None] | None = None) -> Iterator:
        """fn(*task) for every task, yielded in the order of `tasks` whatever order they finish in;
        the first failure raises (and cancels the rest). `progress(1)` is called as each finishes."""
        finished = self.as_completed(fn, tasks)
        waiting: dict[int, object] = {}
        following = 0
        try:
            for index, future in finished:
                waiting[index] = future.result()
                if progress:
                    progress(1)
                while following in waiting:
                    yield waiting.pop(following)
                    following += 1
        finally:
            finished.close()


def _without_main(start: Callable) -> staticmethod:
    """`start` (a process's _Popen) run while `__main__` is an empty module.

    Forkserver and spawn import the main script in every worker (and in the fork server), so a
    script calling `simcenter.run(..., jobs=2)` without `if __name__ == "__main__":` would start
    pools inside its workers until they break. Our tasks are simcenter's module-level functions:
    the workers never need `__main__`, so they are not given it.
    """
    def launch(process):
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")  # nothing for the worker to import again
        try:
            return start(process)
        finally:
            sys.modules["__main__"] = main

    return staticmethod(launch)


class _SpawnWorker(_mp.SpawnProcess):
    _Popen = _without_main(_mp.SpawnProcess._Popen)


class _SpawnWorkers(_mp.SpawnContext):
    Process = _SpawnWorker


if hasattr(_mp, "ForkServerProcess"):  # not on Windows
    class _ForkServerWorker(_mp.ForkServerProcess):
        _Popen = _without_main(_mp.ForkServerProcess._Popen)

    class _ForkServerWorkers(_mp.ForkServerContext):
        Process = _ForkServerWorker


def _shut(pool, failed: bool) -> None:
    """Shut the pool down, cancelling the tasks not started; after Ctrl-C or a failure, whose
    results nobody will take, stop the running ones too instead of waiting for them."""
    if failed:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _run_here(fn: Callable, args: tuple) -> Future:
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except Exception as e:  # noqa: BLE001 - delivered through the future, as a pool would
        future.set_exception(e)
    return future


def check_scheduler(scheduler: str) -> None:
    """Refuse (OutputError, one line) a `scheduler` address Dask cannot read, or Dask missing."""
    _distributed()
    from distributed.comm import resolve_address

    try:
        resolve_address(scheduler)
    except (ValueError, OSError) as e:
        raise OutputError(f"--scheduler {scheduler}: a Dask scheduler's address, e.g. tcp://127.0.0.1:8786 "
                          f"(got {scheduler!r}: {e})") from None


def _distributed():
    try:
        import distributed
    except ImportError:
        raise OutputError('--scheduler needs Dask: pip install "simcenter[dask]"') from None
    return distributed


def _dask(scheduler: str) -> Engine:
    """An Engine on the Dask cluster at `scheduler`, after checking its workers run our versions."""
    from . import __version__

    check_scheduler(scheduler)
    try:
        client = _distributed().Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
    except OSError as e:
        raise OutputError(f"--scheduler {scheduler}: a running Dask scheduler, answering within {CONNECT_SECONDS} s "
                          f"(got {e})") from None
    try:
        versions = client.get_versions(check=True)  # raises if workers' packages differ from ours
        running = client.run(_simcenter_version)
        if set(running.values()) - {__version__}:
            raise RuntimeError(f"workers run other simcenter versions than {__version__}: "
                               f"{sorted(set(running.values()))}")
    except BaseException:
        client.close()
        raise
    recorded = {"scheduler": versions.get("scheduler", {}).get("packages", {}), "workers": len(running),
                "simcenter": __version__}
    return Engine(f"dask:{scheduler}", client.get_executor(), recorded, close=lambda failed: client.close())


def _simcenter_version() -> str:
    import simcenter

    return simcenter.__version__
