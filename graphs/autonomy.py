"""The autonomy policy: when routine work may skip the approval card, and the `/autonomy` command.

Every side effect waits for the operator's approval unless the operator raised an agent's
autonomy ("auto") and the action is exactly the routine work that autonomy covers (so far: the
invoicer's recurring retainer invoices, submitted by the scheduler, for the retainer's amount
to the client's address). Anything unusual asks as always. The supervisor's approval gate asks
``approve_by_autonomy``; the operator changes the policy with ``/autonomy`` in chat.
"""

from __future__ import annotations

from agents import billing_cycle
from graphs.approvals import Action
from graphs.autonomy_policy import allowed_by_rule
from graphs.envelope import Envelope
from store.errors import NotFound
from store.facade import Store
from store.models import Approval
from store.policies import AUTONOMY_LEVELS

SCHEDULER_USER = "coo-scheduler"  # the user id of intents the scheduler submits
AUTONOMY_VIA = "autonomy"  # decided_via of approvals the operator's autonomy policy decided
# Which agents may act on their own, and on what; everything else always asks.
AUTONOMY_SCOPE: dict[str, str] = {
    "invoicer": "recurring retainer invoices whose amount equals the retainer's",
    "collector": "scheduled payment reminders of overdue invoices to the client's address",
}


def _autonomous_agent(store: Store, run_id: str, action: Action) -> str | None:
    """The agent whose raised autonomy covers this action, or None (then the operator decides).

        Only a recurring retainer invoice qualifies: the run was submitted by the scheduler under a
        billing claim, and the invoice is exactly the retainer's monthly amount to the client's
        address. Anything unusual (edited amount, other recipient, no claim, the client's credit going
    towards it) asks as always.
    """
    if action.action == "send_reminder":
        return _routine_reminder(store, run_id, action)
    if action.action != "send_invoice" or action.card.invoice_id is None or not action.draft.to:
        return None
    if store.policies.autonomy("invoicer") != "auto":
        return None
    try:
        accepted = store.conversations.intent_for_run(run_id)
    except NotFound:
        return None
    item = store.recurring.get(accepted.idempotency_key.split(":", 1)[-1])
    if item is None or item.kind != billing_cycle.KIND or accepted.user_id != SCHEDULER_USER:
        return None
    retainer = store.work.retainer(item.retainer_id)
    if retainer is None or retainer.status != "active":
        return None
    client = store.clients.get(retainer.client_id)
    invoice = store.billing.by_id(action.card.invoice_id)
    if action.draft.to != client.contact_email or not billing_cycle.is_routine(invoice, retainer):
        return None
    credit = store.credits.for_invoice(invoice.id)
    if credit is not None and credit.status == "held":
        return None  # it would use the client's credit: money that is not routine, so it asks
    return "invoicer"


def _routine_reminder(store: Store, run_id: str, action: Action) -> str | None:
    """A reminder of the schedule (submitted by the daily tick, at a stage) to the client's own
    address, about invoices still open: the collector's routine. One the operator asked for asks."""
    if store.policies.autonomy("collector") != "auto" or action.card.client_id is None:
        return None
    try:
        accepted = store.conversations.intent_for_run(run_id)
    except NotFound:
        return None
    if accepted.user_id != SCHEDULER_USER or not accepted.intent.get("stage"):
        return None
    client = store.clients.get(action.card.client_id)
    if not action.draft.to or action.draft.to != client.contact_email:
        return None
    invoice = store.billing.get(action.card.number or "")
    if invoice is None or invoice.status not in ("sent", "issued", "partially_paid"):
        return None
    return "collector"


def _decided_by_policy(approval: Approval | None) -> str | None:
    if approval is None or approval.decided_via != AUTONOMY_VIA or not approval.decided_by:
        return None
    return approval.decided_by.removeprefix("coo (autonomy: ").removesuffix(")")


def approve_by_autonomy(store: Store, run_id: str, action: Action, approval: Approval) -> str | None:
    """The agent whose autonomy decided this approval (now, or before a replay of the gate);
    None when the operator decides. With an agent, the supervisor goes on without a card."""
    if approval.status != "pending":
        return _decided_by_policy(approval)
    agent = _autonomous_agent(store, run_id, action)
    evidence: dict[str, object] = {"autonomy": "auto", "scope": AUTONOMY_SCOPE.get(agent or "", "")}
    if agent is None:
        # The operator's /policy rules: autonomy per agent, kind of work and client, within limits.
        allowed = allowed_by_rule(store, run_id, action)
        if allowed is None:
            return None
        agent, rule = allowed
        evidence = {
            "autonomy": rule.level,
            "kind": rule.kind,
            "client_id": rule.client_id or None,
            "max_cents": rule.max_cents,
            "currency": rule.currency,
            "known_only": rule.known_only,
        }
    by = f"coo (autonomy: {agent})"
    if not store.runs.decide(approval.id, "approved", by, AUTONOMY_VIA):
        return _decided_by_policy(store.runs.approval(approval.id))
    store.ledger.append(
        run_id,
        action.step,
        "approved_by_policy",
        {"approval_id": approval.id, "agent": agent, **evidence},
        actor=by,
    )
    return agent


def autonomy_note(agent: str) -> str:
    if agent not in AUTONOMY_SCOPE:
        return f"Sent without asking: your /policy lets the {agent} do this on its own (/policy to see or change it)."
    return (
        f"Sent without asking: your autonomy setting for the {agent} covers {AUTONOMY_SCOPE[agent]} "
        f"(/autonomy {agent} ask to approve each one again)."
    )


def autonomy_command(store: Store, env: Envelope, rest: str) -> str:
    """`/autonomy` shows the policies; `/autonomy invoicer auto|ask` sets one. Only an operator's
    chat command gets here: forwarded e-mail and client text are never commands."""
    policies = store.policies
    words = rest.lower().split()
    if not words:
        lines = ["Autonomy (what coo may do without asking):"]
        for agent, scope in AUTONOMY_SCOPE.items():
            level = policies.autonomy(agent)
            what = f"sends {scope} on its own" if level == "auto" else "asks before sending anything"
            lines.append(f"• {agent}: {level} — {what}")
        lines.append("Everything else always waits for your approval. Change it with /autonomy invoicer auto|ask.")
        return "\n".join(lines)
    if env.channel == "email":
        return "Autonomy can only be changed by the operator in chat."
    if len(words) != 2 or words[1] not in AUTONOMY_LEVELS:
        return f"Write /autonomy AGENT {'|'.join(AUTONOMY_LEVELS)}, e.g. /autonomy invoicer auto."
    agent, level = words
    if agent not in AUTONOMY_SCOPE:
        agents = "; ".join(f"the {name} ({scope})" for name, scope in AUTONOMY_SCOPE.items())
        return f"Only these can act on their own so far: {agents}. The {agent} always asks."
    change = policies.set_autonomy(agent, level, env.user_id, env.channel)
    store.ledger.append(
        "policies",
        "autonomy",
        "policy_changed",
        change.model_dump() | {"via": env.channel},
        actor=f"{env.channel}:{env.user_id}",
        dedupe=env.idempotency_key,
    )
    if level == "auto":
        return (
            f"OK: the {agent} now sends {AUTONOMY_SCOPE[agent]} without asking; anything unusual still "
            f"waits for you. /autonomy {agent} ask undoes it."
        )
    return f"OK: the {agent} asks for your approval before sending anything again."
