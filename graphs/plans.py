"""Which steps an intent runs, and which agent leads it (its queue, timeout and retries)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agents.registry import AgentSpec, agent


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    lead: str  # agent name
    steps: tuple[str, ...]

    @property
    def agent(self) -> AgentSpec:
        return agent(self.lead)


PLANS: dict[str, Plan] = {
    "retainer_signup": Plan(lead="proposal_drafter", steps=("record_retainer", "prepare_proposal",
                                                           "schedule_recurring")),
    "new_client": Plan(lead="intake", steps=("record_client",)),
    "draft_proposal": Plan(lead="proposal_drafter", steps=("prepare_proposal",)),
    "create_invoice": Plan(lead="invoicer", steps=("prepare_invoice",)),
    "record_payment": Plan(lead="invoicer", steps=("record_payment",)),
    "add_deliverable": Plan(lead="intake", steps=("add_deliverable",)),
    "add_task": Plan(lead="intake", steps=("add_task",)),
    "remember_fact": Plan(lead="intake", steps=("remember_fact",)),
    "send_email": Plan(lead="email_responder", steps=("compose_email",)),
    "status_query": Plan(lead="status_reporter", steps=("status_report",)),
    "recall": Plan(lead="status_reporter", steps=("recall",)),
    "client_profile": Plan(lead="status_reporter", steps=("client_profile",)),
    "update_terms": Plan(lead="intake", steps=("update_terms",)),
    "revision_request": Plan(lead="intake", steps=("record_revision",)),
    "deliverable_done": Plan(lead="intake", steps=("mark_deliverable_done",)),
    "weekly_report": Plan(lead="weekly_reporter", steps=("draft_weekly_report",)),
}


def plan_for(kind: str) -> Plan | None:
    """The plan for an intent kind; None for kinds answered without a run (help, unknown)."""
    return PLANS.get(kind)
