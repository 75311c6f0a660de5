"""`/policy` in chat and `coo policy` in the terminal: show and set autonomy per agent and kind of
work, and the policy settings. Only the operator reaches this: forwarded e-mails, client messages
and CSV contents are never commands, and the e-mail channel is refused outright.

    /policy                                       everything in force, and what changed lately
    /policy AGENT KIND ask|ask-external|auto [client="Name"] [max=2500 [USD]] [any-address]
    /policy streak N                              clean approvals before coo suggests more autonomy
"""

from __future__ import annotations

import shlex
from decimal import Decimal, InvalidOperation

from agents.registry import AGENTS
from graphs.autonomy import AUTONOMY_SCOPE
from graphs.autonomy_policy import KINDS, STREAK_KEY, streak_length
from store.autonomy_rules import LEVELS, AutonomyRule
from store.facade import Store
from store.models import cents, format_money, from_cents

USAGE = (
    'Write /policy AGENT KIND ask|ask-external|auto [client="Name"] [max=2500 USD] [any-address], '
    'e.g. /policy invoicer send_invoice auto client="Acme Studio" max=5000; or /policy streak 10.'
)


class PolicyError(ValueError):
    """The command could not be applied; the message says why, in the operator's terms."""


def _rule_line(store: Store, rule: AutonomyRule) -> str:
    who = f" for {store.clients.get(rule.client_id).name}" if rule.client_id else ""
    limits = []
    if rule.level == "auto":
        if rule.max_cents is not None:
            limits.append(f"up to {format_money(from_cents(rule.max_cents), rule.currency or 'USD')}")
        limits.append("known addresses only" if rule.known_only else "any address")
    extra = f" ({', '.join(limits)})" if limits else ""
    return f"• {rule.agent} · {KINDS.get(rule.kind, rule.kind)}{who}: {rule.level}{extra}"


def show_policy(store: Store) -> str:
    lines = ["Autonomy (default: ask — every side effect waits for you):"]
    rules = store.autonomy_rules.all()
    lines.extend(_rule_line(store, rule) for rule in rules)
    for agent, scope in AUTONOMY_SCOPE.items():
        level = store.policies.autonomy(agent)
        if level != "ask":
            lines.append(f"• {agent}: {level} for {scope} (/autonomy {agent} ask)")
    if not rules and all(store.policies.autonomy(a) == "ask" for a in AUTONOMY_SCOPE):
        lines.append("• everything: ask")
    lines.append(f"coo suggests more autonomy after {streak_length(store)} approvals in a row without edits.")
    lines.append(USAGE)
    return "\n".join(lines)


def _client_id(store: Store, value: str) -> int:
    if value.lstrip("#").isdigit():
        return store.clients.get(int(value.lstrip("#"))).id
    found = store.clients.find(value, None)
    if len(found) != 1:
        raise PolicyError(f'I know {len(found)} clients called "{value}"; name exactly one.')
    return found[0].id


def set_policy(store: Store, words: list[str], *, by: str, via: str, dedupe: str) -> str:
    """Apply one `/policy …` change and record it in the ledger; the reply says what changed."""
    if len(words) == 2 and words[0] == "streak":
        if not words[1].isdigit() or int(words[1]) < 1:
            raise PolicyError("The streak is a number of approvals, 1 or more: /policy streak 10.")
        before = store.autonomy_rules.put_setting(STREAK_KEY, words[1], by)
        store.ledger.append(
            "policies",
            "settings",
            "policy_changed",
            {"key": STREAK_KEY, "before": before, "after": words[1], "via": via},
            actor=by,
            dedupe=dedupe,
        )
        return f"OK: coo suggests more autonomy after {words[1]} clean approvals in a row."
    if len(words) < 3:
        raise PolicyError(USAGE)
    agent, kind, level, *options = words
    if agent not in AGENTS:
        raise PolicyError(f"There is no agent called {agent}; the agents are: {', '.join(AGENTS)}.")
    if kind not in KINDS:
        raise PolicyError(f"{kind} is not a kind of work I gate; the kinds are: {', '.join(KINDS)}.")
    if level not in LEVELS:
        raise PolicyError(f"The level is one of {', '.join(LEVELS)}, not {level}.")
    client_id, max_cents, currency, known_only = None, None, None, True
    rest = list(options)
    while rest:
        option = rest.pop(0)
        key, _, value = option.partition("=")
        if key == "client" and value:
            client_id = _client_id(store, value)
        elif key == "max" and value:
            try:
                amount = Decimal(value.replace(",", "").lstrip("$€£"))
            except InvalidOperation:
                raise PolicyError(f"{value} is not an amount; write max=2500 or max=2500 EUR.") from None
            max_cents = cents(amount)
            currency = "EUR" if value.startswith("€") else "GBP" if value.startswith("£") else "USD"
            if rest and len(rest[0]) == 3 and rest[0].isalpha() and "=" not in rest[0]:
                currency = rest.pop(0).upper()
        elif option == "any-address":
            known_only = False
        else:
            raise PolicyError(f"I don't know the option {option!r}. {USAGE}")
    change = store.autonomy_rules.set(
        agent,
        kind,
        client_id,
        level,
        by=by,
        via=via,
        max_cents=max_cents,
        currency=currency,
        known_only=known_only,
    )
    store.ledger.append(
        "policies", "autonomy", "policy_changed", change.model_dump() | {"via": via}, actor=by, dedupe=dedupe
    )
    rule = store.autonomy_rules.rule(agent, kind, client_id)
    assert rule is not None
    return f"OK ({change.before} → {change.after}): {_rule_line(store, rule)[2:]}. The change is in the ledger."


def policy_command(store: Store, rest: str, *, by: str, via: str, dedupe: str) -> str:
    try:
        words = shlex.split(rest)
    except ValueError:
        return f"I could not read that (an unclosed quote?). {USAGE}"
    if not words:
        return show_policy(store)
    if via == "email":
        return "Policy can only be changed by the operator in chat or with `coo policy`."
    try:
        return set_policy(store, words, by=by, via=via, dedupe=dedupe)
    except PolicyError as exc:
        return str(exc)
