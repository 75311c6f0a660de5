"""Every specialist agent, declared once: its queue, timeout and retries.

The supervisor runs a run's job on the queue of the agent that leads it, with that agent's
timeout and retry policy; workers can be pointed at a subset of queues to scale one kind of
work independently.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from store.jobqueue import JobSpec


class AgentSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    queue: str
    timeout: int  # seconds a job may run before RQ stops it
    retries: int

    def job_spec(self) -> JobSpec:
        return JobSpec(
            queue=self.queue,
            timeout=self.timeout,
            retries=self.retries,
            retry_intervals=[5, 30, 120][: max(self.retries, 1)],
        )


AGENTS: dict[str, AgentSpec] = {
    spec.name: spec
    for spec in (
        AgentSpec(
            name="intake",
            description="records clients, facts, deliverables and tasks",
            queue="coo-intake",
            timeout=60,
            retries=3,
        ),
        AgentSpec(
            name="proposal_drafter",
            description="drafts and sends proposals",
            queue="coo-proposals",
            timeout=300,
            retries=2,
        ),
        AgentSpec(
            name="invoicer",
            description="prepares, sends and records invoices and payments",
            queue="coo-billing",
            timeout=120,
            retries=3,
        ),
        AgentSpec(
            name="collector",
            description="drafts payment reminders for open and overdue invoices (on request and on schedule)",
            queue="coo-billing",
            timeout=120,
            retries=3,
        ),
        AgentSpec(
            name="email_responder",
            description="drafts and sends e-mails to clients",
            queue="coo-email",
            timeout=300,
            retries=2,
        ),
        AgentSpec(
            name="status_reporter",
            description="answers questions about the business",
            queue="coo-reports",
            timeout=60,
            retries=1,
        ),
        AgentSpec(
            name="weekly_reporter",
            description="drafts each retainer's weekly client report for approval",
            queue="coo-reports",
            timeout=120,
            retries=2,
        ),
        AgentSpec(
            name="deadline_monitor",
            description="raises retainer deliverables about to slip, once per threshold",
            queue="coo-reports",
            timeout=60,
            retries=3,
        ),
    )
}

QUEUES: tuple[str, ...] = tuple(dict.fromkeys(spec.queue for spec in AGENTS.values()))


def agent(name: str) -> AgentSpec:
    return AGENTS[name]
