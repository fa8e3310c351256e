"""Trainings on the server, for every session and page (Programmer and Language alike): one queue.

A class pressing Train at once must not bring a 2-core server to its knees, nor train the same thing thirty times:

* identical configurations train once: a job is keyed by its configuration, and a second Train of the same key
  follows the job already queued, running or done (its result is shared, read-only);
* at most ``MAX_RUNNING`` trainings run at a time (``FWP_MAX_TRAININGS``, default 1: the other core keeps serving
  the pages); the others wait, and each session sees its place in the queue;
* a training runs in its own thread, never in the server's event loop nor in a session's script: a session that
  leaves the page, or reloads it, finds its job still going (``find``) and follows it again.

``follow(job, draw)`` is what a page calls after ``submit``: it redraws the job's progress until the job ends,
in the session's own script thread (every session has one), and returns the finished job.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

MAX_RUNNING = max(1, int(os.environ.get("FWP_MAX_TRAININGS", "1")))
MAX_KEPT = 16  # finished jobs kept (their results are the server's cache of trained models)
POLL = 0.25  # seconds between two redraws of a followed job


@dataclass
class Job:
    """One training: its state ("queued", "running", "done", "failed"), its progress and its result."""

    key: Hashable
    label: str
    state: str = "queued"
    step: int = 0
    total: int = 0
    entries: list[Any] = field(default_factory=list)  # what the training reported along the way (loss curves)
    result: Any = None
    error: str = ""
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None

    def report(self, step: int, total: int, entry: Any = None) -> None:
        """The training's progress callback: step of total, and an entry for the curves (or None)."""
        self.step, self.total = int(step), int(total)
        if entry is not None:
            self.entries.append(entry)

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed")


class JobQueue:
    """The server's trainings (see the module). Thread-safe."""

    def __init__(self, max_running: int = MAX_RUNNING, max_kept: int = MAX_KEPT):
        self.max_running = max_running
        self.max_kept = max_kept
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(max_running)
        self._jobs: OrderedDict[Hashable, Job] = OrderedDict()
        self._waiting: list[Hashable] = []

    def submit(self, key: Hashable, label: str, fn: Callable[[Callable[..., None]], Any]) -> Job:
        """The job for ``key``: the existing one (queued, running or done), or a new one running ``fn(report)`` when
        a slot is free. A failed job is tried again."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != "failed":
                self._jobs.move_to_end(key)
                return job
            job = Job(key=key, label=label)
            self._jobs[key] = job
            self._waiting.append(key)
        threading.Thread(target=self._run, args=(job, fn), name=f"training {label}", daemon=True).start()
        return job

    def _run(self, job: Job, fn: Callable[[Callable[..., None]], Any]) -> None:
        with self._slots:
            with self._lock:
                self._waiting.remove(job.key)
                job.state, job.started = "running", time.monotonic()
            state, result, error = "done", None, ""
            try:
                result = fn(job.report)
            except Exception as exc:  # noqa: BLE001  (any failure is the job's, shown to whoever follows it)
                state, error = "failed", str(exc) or type(exc).__name__
            with self._lock:
                job.result, job.error, job.finished = result, error, time.monotonic()
                job.state = state  # last: whoever follows the job sees it over only with everything in place
                done = [k for k, j in self._jobs.items() if j.over]
                for k in done[: max(0, len(done) - self.max_kept)]:
                    del self._jobs[k]

    def find(self, key: Hashable) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def position(self, key: Hashable) -> int | None:
        """1 for the next job to start, 2 for the one after it, …; None where the job is not waiting."""
        with self._lock:
            return self._waiting.index(key) + 1 if key in self._waiting else None

    def counts(self) -> tuple[int, int]:
        """(running, waiting)."""
        with self._lock:
            return sum(j.state == "running" for j in self._jobs.values()), len(self._waiting)


@st.cache_resource(show_spinner=False)
def queue() -> JobQueue:
    """The server's one queue."""
    return JobQueue()


def status_text(job: Job, q: JobQueue) -> str:
    """A line on where the job is: its place in the queue, its step, or its end."""
    if job.state == "queued":
        pos = q.position(job.key)
        running, waiting = q.counts()
        return (f"Waiting: {job.label} is number {pos} in the queue ({running} training{'s' * (running != 1)} running; "
                f"at most {q.max_running} at a time on this server). It starts by itself.") if pos else f"Starting {job.label} …"
    if job.state == "running":
        return f"Training {job.label}: step {job.step} / {job.total or '…'}"
    if job.state == "failed":
        return f"{job.label} could not be trained: {job.error}"
    return f"{job.label} is trained."


def follow(job: Job, draw: Callable[[Job], None], q: JobQueue | None = None) -> Job:
    """Redraw ``draw(job)`` every ``POLL`` seconds until the job ends (in this session's script thread; the server
    keeps serving every other session), then once more; returns the job."""
    while not job.over:
        draw(job)
        time.sleep(POLL)
    draw(job)
    return job
