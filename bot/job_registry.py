"""Every job coo queues, by name: the function's dotted path (RQ imports it by that path) and
where and how it runs. Nothing else writes a job's path or its queue.

A run's own jobs ("run", "resume") go to the queue of the agent that leads the run, with that
agent's timeout and retries (agents.registry); the others carry their spec here.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from agents.registry import QUEUES as AGENT_QUEUES
from graphs.sending import SEND_RETRY_JOB
from store.jobqueue import JobSpec

JobName = Literal["run", "resume", "inbox", "digest", "tick", "send_retry", "stranger"]


class Job(NamedTuple):
    func: str
    spec: JobSpec  # for "run" and "resume": a default; the agent's own spec is used


JOBS: dict[JobName, Job] = {
    "run": Job("bot.jobs.run_intent", JobSpec()),
    "resume": Job("bot.jobs.resume_run", JobSpec()),
    # Short work: parse or file one saved input, answer or start a run. Five attempts over two
    # minutes outlive a database restart; a longer outage is left to the lost-work sweep.
    "inbox": Job(
        "bot.jobs.process_inbox",
        JobSpec(queue="coo-intake", timeout=120, retries=5, retry_intervals=[1, 3, 10, 30, 60]),
    ),
    "digest": Job(
        "bot.jobs.send_digest", JobSpec(queue="coo-reports", timeout=120, retries=3, retry_intervals=[30, 120, 600])
    ),
    "tick": Job(
        "bot.jobs.run_tick", JobSpec(queue="coo-reports", timeout=300, retries=3, retry_intervals=[30, 120, 600])
    ),
    # One more attempt at an approved e-mail the mail server did not take (graphs.sending).
    "send_retry": Job("bot.jobs.retry_send", SEND_RETRY_JOB),
    # A refusal to a stranger: its own queue, listed last (RQ workers take queues in order), and
    # behind everything else in process, so strangers never delay the operator (bot.refusal_limit).
    "stranger": Job(
        "bot.jobs.process_inbox",
        JobSpec(queue="coo-strangers", timeout=60, retries=1, retry_intervals=[5], low_priority=True),
    ),
}

# Every queue a worker listens on by default.
QUEUES: tuple[str, ...] = tuple(
    dict.fromkeys([*AGENT_QUEUES, *(job.spec.queue for name, job in JOBS.items() if name not in ("run", "resume"))])
)
