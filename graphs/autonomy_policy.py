"""Autonomy earned from the ledger: levels per agent and kind of work, the limits of ``auto``,
the streak of clean approvals that makes coo suggest a higher level, and the failures that
lower it.

coo never raises a level itself: after N approvals in a row of one agent's work of one kind for
one client, approved as drafted (no edit, no rejection), it *suggests* the change, citing the
approvals; only the operator's tap on its button (graphs.policy_offers), `/policy` command or `coo policy` changes it, and each change is
a ``policy_changed`` ledger event. A send that ``auto`` let out and that then failed lowers the
level back to ``ask`` with a message. The evidence is read from the approvals and the ledger
each time, so nothing can drift from what really happened.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from graphs.approvals import Action
from store.autonomy_rules import AutonomyRule
from store.facade import Store
from store.models import format_money, from_cents
from store.observability import Decision

STREAK_KEY = "autonomy.streak"
DEFAULT_STREAK = 10
AUTONOMY_VIA = "autonomy"  # decided_via of approvals a policy decided (graphs.autonomy uses the same)


class SideEffectKind(NamedTuple):
    label: str  # what the operator reads ("invoices", "retainer changes")
    external: bool  # it leaves the system (an e-mail to a client); else internal bookkeeping


# Every kind of side effect autonomy can be set for, and whether it leaves the system: the one
# place that says so. ``ask`` asks before each; ``ask-external`` lets the internal ones (changes to
# the books that stay in coo: they are in the ledger and "undo" takes them back) run on their own
# while anything external still waits for a card; ``auto`` lets both go, the external ones within
# the rule's limits. A kind not listed here counts as external, so it always waits.
SIDE_EFFECTS: dict[str, SideEffectKind] = {
    "send_invoice": SideEffectKind("invoices", True),
    "resend_invoice": SideEffectKind("invoice resends", True),
    "send_email": SideEffectKind("e-mails", True),
    "send_proposal": SideEffectKind("proposals", True),
    "send_reminder": SideEffectKind("payment reminders", True),
    "send_credit_note": SideEffectKind("credit notes", True),
    "change_retainer": SideEffectKind("retainer term changes", False),
    "end_retainer": SideEffectKind("retainer ends", False),
    "pause_retainer": SideEffectKind("retainer pauses", False),
    "resume_retainer": SideEffectKind("retainer resumes", False),
    "change_currency": SideEffectKind("billing currency changes", False),
    "rename_client": SideEffectKind("client renames", False),
    "change_contact": SideEffectKind("contact address changes", False),
    "delete_client": SideEffectKind("client deletions", False),
}
KINDS: dict[str, str] = {kind: what.label for kind, what in SIDE_EFFECTS.items()}
INTERNAL_LEVELS = ("ask-external", "auto")  # the levels that let internal bookkeeping run on its own


def is_external(kind: str) -> bool:
    """Whether the side effect leaves the system; unknown kinds do (so they wait)."""
    found = SIDE_EFFECTS.get(kind)
    return found is None or found.external


def streak_length(store: Store) -> int:
    value = store.autonomy_rules.setting(STREAK_KEY)
    return int(value) if value and value.isdigit() and int(value) > 0 else DEFAULT_STREAK


def clean_streak(store: Store, agent: str, kind: str, client_id: int | None) -> list[Decision]:
    """The operator's latest approvals of this work, as drafted, back to the last edit or rejection."""
    decisions = [
        d
        for d in store.observability.decisions()
        if d.agent == agent and d.action == kind and d.client_id == client_id and d.via != AUTONOMY_VIA
    ]
    streak: list[Decision] = []
    for decision in reversed(decisions):
        if decision.decision != "approved" or decision.edited:
            break
        streak.append(decision)
    return list(reversed(streak))


def _client_name(store: Store, client_id: int | None) -> str | None:
    return store.clients.get(client_id).name if client_id else None


def suggestion_after(store: Store, run_id: str, approval_id: int) -> tuple[str, int] | None:
    """After the operator approved: a suggestion to raise the level when the streak is long enough,
    and its offer number (the ``autonomy_suggested`` event's id, which graphs.policy_offers applies)."""
    approval = store.runs.approval(approval_id)
    if approval is None or approval.status != "approved" or approval.decided_via == AUTONOMY_VIA:
        return None
    agent = store.observability.run_agent(run_id)
    client_id = approval.card.get("client_id")
    if store.autonomy_rules.level(agent, approval.action, client_id) == "auto":
        return None
    streak = clean_streak(store, agent, approval.action, client_id)
    needed = streak_length(store)
    if not streak or len(streak) % needed:
        return None
    evidence = [d.approval_id for d in streak[-needed:]]
    client = _client_name(store, client_id)
    store.ledger.append(
        run_id,
        approval.step,
        "autonomy_suggested",
        {"agent": agent, "kind": approval.action, "client_id": client_id, "approvals": evidence, "level": "auto"},
        dedupe=str(approval.id),
    )
    what = KINDS.get(approval.action, approval.action)
    offer = store.db.scalar(
        "SELECT MAX(id) AS n FROM ledger WHERE run_id = ? AND kind = 'autonomy_suggested' AND dedupe_key LIKE ?",
        (run_id, f"%:{approval.id}"),
    )
    return (
        f"💡 Your last {needed} approvals of the {agent}'s {what}{f' for {client}' if client else ''} went out "
        f"as drafted — no edits, no rejections (approvals #{evidence[0]}–#{evidence[-1]}; the ledger's "
        f"approval_answered events). Let it send these on its own, to known addresses only? "
        f"Tap Raise to auto (or type /policy accept {offer}) — nothing changes unless you do."
    ), int(offer or 0)


def known_address(store: Store, client_id: int | None, address: str | None) -> bool:
    """The client's contact address, or one coo already sent the client something at."""
    if not client_id or not address:
        return False
    client = store.clients.get(client_id)
    if client.contact_email and client.contact_email.lower() == address.lower():
        return True
    for row in store.db.fetchall("SELECT meta FROM artifacts WHERE kind = 'email' AND client_id = ?", (client_id,)):
        meta = row["meta"] if isinstance(row["meta"], dict) else json.loads(row["meta"] or "{}")
        if str(meta.get("to", "")).lower() == address.lower():
            return True
    return False


def within_limits(store: Store, rule: AutonomyRule, action: Action) -> str | None:
    """None when the action is within the rule's limits; else why it still asks."""
    if rule.known_only and not known_address(store, action.card.client_id, action.draft.to):
        return f"{action.draft.to or 'no address'} is not an address on file for the client"
    if rule.max_cents is not None and action.card.invoice_id is not None:
        invoice = store.billing.by_id(action.card.invoice_id)
        if rule.currency and invoice.currency != rule.currency:
            return f"the amount is in {invoice.currency}, the ceiling in {rule.currency}"
        if invoice.total_cents > rule.max_cents:
            ceiling = format_money(from_cents(rule.max_cents), rule.currency or invoice.currency)
            return f"{format_money(invoice.total, invoice.currency)} is over the {ceiling} ceiling"
    return None


def allowed_by_rule(store: Store, run_id: str, action: Action) -> tuple[str, AutonomyRule] | None:
    """(agent, rule) when the operator's /policy lets this action go without a card."""
    agent = store.observability.run_agent(run_id)
    rule = store.autonomy_rules.rule(agent, action.action, action.card.client_id)
    if rule is None:
        return None
    if not is_external(action.action):
        return (agent, rule) if rule.level in INTERNAL_LEVELS else None
    if rule.level != "auto":
        return None
    if within_limits(store, rule, action) is not None:
        return None
    return agent, rule


def allowed_internal(store: Store, run_id: str, kind: str, client_id: int | None) -> tuple[str, AutonomyRule] | None:
    """(agent, rule) when the operator's /policy lets this internal change run without asking:
    the run's agent is at ``ask-external`` or ``auto`` for the kind (for this client, or all)."""
    if is_external(kind):
        return None
    agent = store.observability.run_agent(run_id)
    rule = store.autonomy_rules.rule(agent, kind, client_id)
    return (agent, rule) if rule is not None and rule.level in INTERNAL_LEVELS else None


def lower_after_failure(store: Store, run_id: str, action: Action, approval_id: int) -> str | None:
    """A send that autonomy let out failed: the level goes back to ``ask`` (a ledger event), said why."""
    approval = store.runs.approval(approval_id)
    if approval is None or approval.decided_via != AUTONOMY_VIA:
        return None
    agent = store.observability.run_agent(run_id)
    rule = store.autonomy_rules.rule(agent, action.action, action.card.client_id)
    if rule is None or rule.level == "ask":
        return None
    change = store.autonomy_rules.set(
        agent, action.action, rule.client_id, "ask", by="coo", via="failed-send", known_only=rule.known_only
    )
    store.ledger.append(
        "policies",
        "autonomy",
        "policy_changed",
        change.model_dump() | {"via": "failed-send", "reason": f"approval #{approval_id} failed to send"},
        actor="coo",
        dedupe=f"failed-{approval_id}",
    )
    what = KINDS.get(action.action, action.action)
    return (
        f"I lowered the {agent}'s autonomy for {what} back to ask: one it sent on its own failed "
        f"(approval #{approval_id}). /policy {agent} {action.action} auto raises it again."
    )


_COMPLAINT = re.compile(
    r"\b(?:complain\w*|unacceptable|not happy|unhappy|disappointed|frustrat\w*|upset|"
    r"(?:wrong|incorrect|duplicate|double)[- ](?:invoice|amount|charge|bill|e-?mail)\w*|"
    r"(?:invoice|charge|amount|e-?mail)s? (?:is|was|were) (?:wrong|incorrect)|"
    r"charged (?:us |me )?twice|shouldn'?t have (?:been )?sent|sent (?:this|that|it) by mistake|stop sending)\b",
    re.I,
)


def is_complaint(text: str) -> bool:
    return bool(_COMPLAINT.search(text))


def lower_after_complaint(store: Store, client_id: int, text: str, source: str) -> str | None:
    """A client complains: every ``auto`` that could act for this client goes back to ``ask`` for
    them (a client-specific rule, so other clients keep theirs), with a message. Untrusted text
    can only ever *lower* autonomy this way — never raise it, never touch another client."""
    if not is_complaint(text):
        return None
    lowered = []
    for rule in store.autonomy_rules.all():
        if rule.level == "ask" or rule.client_id not in (client_id, 0) or not is_external(rule.kind):
            continue  # only what leaves the system is lowered: bookkeeping in the books stays as set
        if store.autonomy_rules.level(rule.agent, rule.kind, client_id) == "ask":
            continue
        change = store.autonomy_rules.set(
            rule.agent, rule.kind, client_id, "ask", by="coo", via="complaint", known_only=rule.known_only
        )
        store.ledger.append(
            "policies",
            "autonomy",
            "policy_changed",
            change.model_dump() | {"via": "complaint", "reason": source},
            actor="coo",
            dedupe=f"complaint-{source}-{rule.agent}-{rule.kind}",
        )
        lowered.append(f"the {rule.agent}'s {KINDS.get(rule.kind, rule.kind)}")
    if not lowered:
        return None
    name = store.clients.get(client_id).name
    return (
        f"This reads like a complaint, so {' and '.join(lowered)} for {name} ask you again before "
        f"anything goes out (autonomy lowered to ask; /policy shows it)."
    )
