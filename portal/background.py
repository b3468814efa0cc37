"""Run Celery tasks in the background, with or without a broker.

With CELERY_BROKER_URL set, tasks go to Celery workers (urgent ones to the `*-priority`
queue, which workers drain first). Without it, the embedded default, they run on a small
thread pool inside the web process, ordered by the same priority, and the beat schedule runs
on a timer thread: one process is a complete portal. GREENROOM_TASKS_INLINE (tests, and
commands that wait) runs them synchronously in the caller instead.
"""

from __future__ import annotations

import fnmatch
import importlib
import itertools
import logging
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

_inline = threading.local()
_pool_lock = threading.Lock()
_pool_queue: queue.PriorityQueue[tuple[int, int, Any, tuple[Any, ...]]] = queue.PriorityQueue()
_pool_threads: list[threading.Thread] = []
_sequence = itertools.count()
_scheduler_started = False


def mode() -> str:
    """Return how tasks run here: "inline", "celery" or "embedded"."""
    if settings.GREENROOM_TASKS_INLINE or getattr(_inline, "forced", False):
        return "inline"
    return "celery" if settings.CELERY_BROKER_URL else "embedded"


def dispatch(task: Any, *args: Any, priority: bool = False, countdown: float = 0.0) -> None:
    """Run task(*args) in the background once the current transaction commits.

    With Celery, a broker that does not answer is logged, not raised: the work is already
    recorded in the database, and the scheduler re-sends what stayed pending.
    """
    transaction.on_commit(lambda: _send(task, args, priority, countdown), robust=mode() == "celery")


def _send(task: Any, args: tuple[Any, ...], priority: bool, countdown: float = 0.0) -> None:
    current = mode()
    if current == "celery":
        base = queue_for(task.name)
        task.apply_async(
            args=args, queue=f"{base}-priority" if priority else base, countdown=countdown or None
        )
    elif current == "inline":
        _run_inline(task, args, priority)  # one thread: whatever it waits for is done first
    else:
        _ensure_pool()
        item = (0 if priority else 1, next(_sequence), task, args)
        if countdown:
            threading.Timer(countdown, _pool_queue.put, args=(item,)).start()
        else:
            _pool_queue.put(item)


# A worker drains these in order (queue_order_strategy=priority): urgent work first.
WORKER_QUEUES = "ingest-priority,ingest,default-priority,default"


def worker_command(concurrency: int, loglevel: str = "INFO") -> list[str]:
    """Return the argv that starts a Celery worker for every Greenroom queue."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "--concurrency",
        str(concurrency),
        "-Q",
        WORKER_QUEUES,
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def queue_for(task_name: str) -> str:
    """Return the queue CELERY_TASK_ROUTES gives a task (glob patterns), or "default"."""
    for pattern, route in settings.CELERY_TASK_ROUTES.items():
        if fnmatch.fnmatchcase(task_name, pattern):
            return route["queue"]
    return settings.CELERY_TASK_DEFAULT_QUEUE


@contextmanager
def inline_tasks() -> Iterator[None]:
    """Run every task dispatched inside the block synchronously, in this thread."""
    previous = getattr(_inline, "forced", False)
    _inline.forced = True
    try:
        yield
    finally:
        _inline.forced = previous


def _run_inline(task: Any, args: tuple[Any, ...], priority: bool) -> None:
    # Tasks that dispatch tasks would recurse; queue them and drain from the outermost call.
    pending: deque[tuple[int, int, Any, tuple[Any, ...]]] | None = getattr(_inline, "queue", None)
    if pending is not None:
        pending.append((0 if priority else 1, next(_sequence), task, args))
        return
    _inline.queue = pending = deque([(0, 0, task, args)])
    try:
        while pending:
            # Urgent work first, as the broker would order it.
            item = min(pending, key=lambda entry: (entry[0], entry[1]))
            pending.remove(item)
            item[2](*item[3])
    finally:
        _inline.queue = None


def _ensure_pool() -> None:
    with _pool_lock:
        _pool_threads[:] = [t for t in _pool_threads if t.is_alive()]
        for index in range(len(_pool_threads), max(1, settings.GREENROOM_INPROCESS_WORKERS)):
            thread = threading.Thread(
                target=_pool_worker, name=f"greenroom-worker-{index}", daemon=True
            )
            thread.start()
            _pool_threads.append(thread)


def _pool_worker() -> None:
    while True:
        _priority, _seq, task, args = _pool_queue.get()
        close_old_connections()
        try:
            task(*args)
        except Exception:
            logger.exception("background task %s%r failed", getattr(task, "name", task), args)
        finally:
            # A pool thread holds no connection between tasks: idle threads must not keep
            # database sessions (or SQLite locks) open for the life of the process.
            connections.close_all()
            _pool_queue.task_done()


def wait_for_embedded_pool(timeout: float = 60.0) -> bool:
    """Return True once the in-process queue is empty and idle (for tests and commands)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _pool_queue.unfinished_tasks == 0:
            return True
        time.sleep(0.05)
    return False


def start_embedded_scheduler_if_serving() -> None:
    """In embedded mode, run the beat schedule on a timer thread of the serving process.

    Only the process that serves requests runs it (runserver's reloaded child, or a server
    started with GREENROOM_EMBEDDED_SCHEDULER=true), never management commands or tests;
    GREENROOM_EMBEDDED_SCHEDULER=false keeps a runserver from running it.
    """
    global _scheduler_started
    if _scheduler_started or mode() != "embedded":
        return
    choice = os.environ.get("GREENROOM_EMBEDDED_SCHEDULER", "").lower()
    if choice in ("0", "false", "no"):
        return
    forced = choice in ("1", "true", "yes")
    serving = sys.argv[1:2] == ["runserver"] and (
        os.environ.get("RUN_MAIN") == "true" or "--noreload" in sys.argv
    )
    if not (forced or serving):
        return
    _scheduler_started = True
    threading.Thread(target=_scheduler_loop, name="greenroom-scheduler", daemon=True).start()


def resolve_task(name: str) -> Any:
    """Return the Celery task registered under name, importing its module if need be.

    Celery discovers tasks lazily (when a worker starts); a web process running the
    embedded scheduler has to import them itself.
    """
    from portal.celery import app

    if name not in app.tasks:
        importlib.import_module(name.rsplit(".", 1)[0])
    return app.tasks[name]


def _scheduler_loop() -> None:
    last_run: dict[str, float] = {}
    time.sleep(1.0)  # let start-up finish before the first tick
    while True:
        now = time.monotonic()
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            interval = float(entry["schedule"])
            if now - last_run.get(name, -interval) >= interval:
                last_run[name] = now
                try:
                    task = resolve_task(entry["task"])
                    _ensure_pool()
                    _pool_queue.put((0, next(_sequence), task, tuple(entry.get("args", ()))))
                except Exception:
                    logger.exception("could not schedule %s", name)
        time.sleep(1.0)
