"""`/policy` in chat and `coo policy` in the terminal: show and set autonomy per agent and kind of
work, and the policy settings. Only the operator reaches this: forwarded e-mails, client messages
and CSV contents are never commands, and the e-mail channel is refused outright.

    /policy                                       everything in force, and what changed lately
    /policy AGENT KIND ask|ask-external|auto [client="Name"] [max=2500 [USD]] [any-address]
    /policy accept N                              take coo's suggestion N (what its button does)
    /policy streak N                              clean approvals before coo suggests more autonomy
    /policy cap daily|monthly AMOUNT|off          model spend caps in USD
    /policy cap fallback on|off                   over a cap: a cheaper tier (on), or pause and ask (off)
    /policy price MODEL IN/OUT                    USD per million prompt/completion tokens
    /policy sla billing|client_email|marketing 2h|1bd|3d   soft SLAs per category of work
"""

from __future__ import annotations

import shlex
from decimal import Decimal, InvalidOperation

from agents.budget import CAP_KEYS, FALLBACK_KEY, PRICE_PREFIX, Budget, parse_prices
from agents.registry import AGENTS
from graphs.autonomy import AUTONOMY_SCOPE
from graphs.autonomy_policy import KINDS, STREAK_KEY, is_external, streak_length
from graphs.policy_offers import accept_offer
from graphs.slas import SlaError, set_sla, sla_lines
from store.autonomy_rules import LEVELS, AutonomyRule
from store.facade import Store
from store.models import cents, format_money, from_cents

USAGE = (
    'Write /policy AGENT KIND ask|ask-external|auto [client="Name"] [max=2500 USD] [any-address], '
    'e.g. /policy invoicer send_invoice auto client="Acme Studio" max=5000; or /policy streak 10. '
    "ask-external lets internal bookkeeping run on its own (e.g. /policy intake change_retainer ask-external) "
    "while anything leaving the system still waits."
)


class PolicyError(ValueError):
    """The command could not be applied; the message says why, in the operator's terms."""


def _rule_line(store: Store, rule: AutonomyRule) -> str:
    who = f" for {store.clients.get(rule.client_id).name}" if rule.client_id else ""
    limits = []
    if rule.level == "auto" and is_external(rule.kind):
        if rule.max_cents is not None:
            limits.append(f"up to {format_money(from_cents(rule.max_cents), rule.currency or 'USD')}")
        limits.append("known addresses only" if rule.known_only else "any address")
    extra = f" ({', '.join(limits)})" if limits else ""
    return f"• {rule.agent} · {KINDS.get(rule.kind, rule.kind)}{who}: {rule.level}{extra}"


def _caps_lines(budget: Budget | None) -> list[str]:
    if budget is None:
        return []
    lines = ["Model spend caps:"]
    for period, cap in budget.caps().items():
        spent = budget.spent(period)
        lines.append(
            f"• {period}: " + (f"${cap:.2f} (spent ${spent:.4f})" if cap is not None else f"none (spent ${spent:.4f})")
        )
    lines.append(
        "• over a cap: "
        + ("a cheaper tier (the offline one last)" if budget.fallback_allowed() else "the run pauses and asks you")
    )
    return lines


def show_policy(store: Store, budget: Budget | None = None) -> str:
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
    lines.extend(_caps_lines(budget))
    lines.extend(sla_lines(store))
    lines.append(USAGE)
    return "\n".join(lines)


def _client_id(store: Store, value: str) -> int:
    if value.lstrip("#").isdigit():
        return store.clients.get(int(value.lstrip("#"))).id
    found = store.clients.find(value, None)
    if len(found) != 1:
        raise PolicyError(f'I know {len(found)} clients called "{value}"; name exactly one.')
    return found[0].id


def _setting(store: Store, key: str, value: str, *, by: str, via: str, dedupe: str) -> str | None:
    before = store.autonomy_rules.put_setting(key, value, by)
    store.ledger.append(
        "policies",
        "settings",
        "policy_changed",
        {"key": key, "before": before, "after": value, "via": via},
        actor=by,
        dedupe=dedupe,
    )
    return before


def _cap(store: Store, words: list[str], *, by: str, via: str, dedupe: str) -> str:
    if len(words) != 3:
        raise PolicyError(
            "Write /policy cap daily 5, /policy cap monthly 100, /policy cap daily off or /policy cap fallback on|off."
        )
    _, what, value = words
    if what == "fallback":
        if value not in ("on", "off"):
            raise PolicyError("Write /policy cap fallback on (a cheaper tier) or off (pause and ask).")
        _setting(store, FALLBACK_KEY, value, by=by, via=via, dedupe=dedupe)
        return (
            "OK: over a cap coo now uses a cheaper tier (the offline one last)."
            if value == "on"
            else "OK: over a cap coo now pauses the run and asks you."
        )
    if what not in CAP_KEYS:
        raise PolicyError("The caps are daily and monthly: /policy cap daily 5.")
    if value in ("off", "none", "0"):
        _setting(store, CAP_KEYS[what], "off", by=by, via=via, dedupe=dedupe)
        return f"OK: no {what} model spend cap."
    try:
        amount = Decimal(value.lstrip("$"))
    except InvalidOperation:
        raise PolicyError(f"{value} is not an amount in USD; write /policy cap {what} 5.") from None
    if amount <= 0:
        raise PolicyError(f"A cap is more than $0 (or off): /policy cap {what} 5.")
    _setting(store, CAP_KEYS[what], str(amount), by=by, via=via, dedupe=dedupe)
    return f"OK: the {what} model spend cap is ${amount:.2f}."


def _price(store: Store, words: list[str], *, by: str, via: str, dedupe: str) -> str:
    if len(words) != 3:
        raise PolicyError(
            "Write /policy price MODEL IN/OUT, e.g. /policy price gpt-4o 2.5/10 (USD per million tokens)."
        )
    _, model, pair = words
    try:
        parse_prices(f"{model}={pair}")
    except ValueError:
        raise PolicyError(f"{pair} is not a price pair; write IN/OUT in USD per million tokens, e.g. 2.5/10.") from None
    _setting(store, PRICE_PREFIX + model, pair, by=by, via=via, dedupe=dedupe)
    given, _, taken = pair.partition("/")
    return f"OK: {model} costs ${float(given):g} per million prompt tokens and ${float(taken):g} per million completion tokens."


def set_policy(store: Store, words: list[str], *, by: str, via: str, dedupe: str) -> str:
    """Apply one `/policy …` change and record it in the ledger; the reply says what changed."""
    if words[0] == "accept":
        return accept_offer(store, words, by=by, via=via)
    if words[0] == "cap":
        return _cap(store, words, by=by, via=via, dedupe=dedupe)
    if words[0] == "price":
        return _price(store, words, by=by, via=via, dedupe=dedupe)
    if words[0] == "sla":
        return set_sla(store, words, by=by, via=via, dedupe=dedupe)
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
    if not is_external(kind) and (max_cents is not None or not known_only):
        raise PolicyError(
            f"{kind} is internal bookkeeping: nothing leaves the system, so max= and any-address do not apply. "
            f"/policy {agent} {kind} ask-external lets it run on its own."
        )
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


def policy_command(store: Store, rest: str, *, by: str, via: str, dedupe: str, budget: Budget | None = None) -> str:
    try:
        words = shlex.split(rest)
    except ValueError:
        return f"I could not read that (an unclosed quote?). {USAGE}"
    if not words:
        return show_policy(store, budget)
    if via == "email":
        return "Policy can only be changed by the operator in chat or with `coo policy`."
    try:
        return set_policy(store, words, by=by, via=via, dedupe=dedupe)
    except (PolicyError, SlaError) as exc:
        return str(exc)
