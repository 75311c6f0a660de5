"""Approval flows through Slack and Telegram against `coo serve` and two `coo worker` processes,
on a PostgreSQL cluster and a Redis of the test's own, while workers are SIGKILLed (between
steps and mid-send), PostgreSQL restarted, Redis killed or flushed, SMTP stopped and `coo serve`
killed — then every invariant of issue #14 must hold: each acknowledged message and tap
answered exactly once, each approved e-mail sent once or told uncertain, no approval stuck, no
invoice number skipped or reused, every side effect with its receipt, the books check clean.

The same harness as `coo bench chaos` (bench/chaos*.py) with small counts and a quicker fault
pace. LangGraph's resume pitfalls (a node re-run from its top, two interrupts in one node, a
stale resume value) are tested in tests/test_resume_pitfalls.py."""

from __future__ import annotations

import shutil

import pytest

from bench.chaos import Plan, run
from bench.chaos_checks import PhaseResult
from bench.chaos_faults import QUICK

pytestmark = pytest.mark.slow  # a PostgreSQL cluster, Redis, coo serve and workers of its own


def _binaries() -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (scripts/services installs it)")


def _held(results: list[PhaseResult]) -> None:
    for r in results:
        where = f"{r.phase}: " + "; ".join(r.details[:15])
        assert r.faults > 0, f"{r.phase}: no fault was injected"
        assert r.acknowledged > 0 and r.answered == r.acknowledged, where
        assert r.lost == 0, where
        assert r.duplicated_emails == 0 and r.duplicated_answers == 0, where
        assert r.unfinished == 0 and r.stuck == 0, where
        assert r.number_gaps == 0 and r.missing_receipts == 0 and r.books_ok, where


def test_flows_survive_killed_workers_postgresql_restarts_and_a_killed_serve():
    _binaries()
    plan = Plan(phases=("workers", "postgres", "serve"), flows=12, all_flows=0, workers=2, settle=90, pace=QUICK)
    results, summary = run(plan)
    assert [r.phase for r in results] == ["workers", "postgres", "serve"]
    assert summary["flows"] == 12
    _held(results)


def test_flows_survive_a_lost_redis_and_every_fault_at_once():
    _binaries()
    # The all-faults phase stops SMTP: a send that met it is retried a minute later (the
    # product's backoff), so the settle bound is longer than the phase itself.
    plan = Plan(phases=("redis", "all"), flows=4, all_flows=6, workers=2, settle=150, pace=QUICK)
    results, summary = run(plan)
    assert [r.phase for r in results] == ["redis", "all"]
    assert summary["flows"] == 10
    _held(results)
