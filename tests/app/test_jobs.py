"""The server's training queue (app/jobs.py): identical configurations train once, at most a fixed number run at a
time, the others wait with their place, a failure is reported and can be retried."""

from __future__ import annotations

import threading
import time

from app.jobs import JobQueue, follow, status_text


def _gate_job(started: list[str], release: threading.Event, name: str, result: object = None):
    def fn(report):
        started.append(name)
        report(1, 2, {"step": 1})
        assert release.wait(10)
        report(2, 2)
        return result if result is not None else name
    return fn


def _until(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_identical_configurations_train_once_and_share_the_result() -> None:
    q = JobQueue(max_running=1)
    release, started = threading.Event(), []
    a = q.submit(("lm", "delta", 10), "delta", _gate_job(started, release, "first"))
    b = q.submit(("lm", "delta", 10), "delta", _gate_job(started, release, "second"))
    assert a is b
    release.set()
    follow(a, lambda job: None)
    assert a.state == "done" and a.result == "first" and started == ["first"]
    assert a.entries == [{"step": 1}] and (a.step, a.total) == (2, 2)
    assert q.submit(("lm", "delta", 10), "delta", _gate_job(started, release, "third")) is a  # done: still shared


def test_at_most_max_running_and_the_others_wait_in_order() -> None:
    q = JobQueue(max_running=2)
    release, started = threading.Event(), []
    jobs = [q.submit(("lm", i), f"job {i}", _gate_job(started, release, f"job {i}")) for i in range(5)]
    _until(lambda: len(started) == 2)
    time.sleep(0.1)
    assert len(started) == 2 and q.counts() == (2, 3)
    waiting = [j for j in jobs if j.state == "queued"]
    assert sorted(q.position(j.key) for j in waiting) == [1, 2, 3]
    assert all(f"number {q.position(j.key)} in the queue" in status_text(j, q) for j in waiting)
    assert "at most 2 at a time" in status_text(waiting[0], q)
    release.set()
    for j in jobs:
        follow(j, lambda job: None)
    assert all(j.state == "done" for j in jobs) and sorted(started) == sorted(j.label for j in jobs)
    assert q.counts() == (0, 0) and q.position(jobs[-1].key) is None


def test_a_failure_is_reported_and_a_new_submit_retries() -> None:
    q = JobQueue(max_running=1)

    def bad(report):
        raise ValueError("steps=0 is not allowed")

    job = follow(q.submit("k", "bad", bad), lambda job: None)
    assert job.state == "failed" and job.error == "steps=0 is not allowed"
    assert "could not be trained: steps=0 is not allowed" in status_text(job, q)
    again = follow(q.submit("k", "good", lambda report: 42), lambda job: None)
    assert again is not job and again.result == 42


def test_finished_jobs_beyond_the_limit_are_forgotten_oldest_first() -> None:
    q = JobQueue(max_running=1, max_kept=2)
    for i in range(4):
        follow(q.submit(i, str(i), lambda report, i=i: i), lambda job: None)
    assert q.find(0) is None and q.find(1) is None and q.find(3).result == 3
