"""`/policy sla CATEGORY DURATION` and the SLA lines of `/policy` (the SLAs: agents.slas)."""

from __future__ import annotations

from agents.slas import DEFAULT_SLAS, LABELS, SLA_PREFIX, parse_duration, slas
from store.facade import Store


class SlaError(ValueError):
    """The SLA could not be set; the message says why."""


def sla_lines(store: Store) -> list[str]:
    chosen = slas(store)
    return ["Soft SLAs (request → done):", *(f"• {LABELS[c]} ({c}): {chosen[c]}" for c in DEFAULT_SLAS)]


def set_sla(store: Store, words: list[str], *, by: str, via: str, dedupe: str) -> str:
    if len(words) != 3 or words[1] not in DEFAULT_SLAS:
        raise SlaError(f"Write /policy sla {'|'.join(DEFAULT_SLAS)} DURATION, e.g. /policy sla billing 2h.")
    _, category, given = words
    try:
        value = parse_duration(given)
    except ValueError as exc:
        raise SlaError(str(exc)) from None
    before = store.autonomy_rules.put_setting(SLA_PREFIX + category, value, by)
    store.ledger.append(
        "policies",
        "settings",
        "policy_changed",
        {"key": SLA_PREFIX + category, "before": before or DEFAULT_SLAS[category], "after": value, "via": via},
        actor=by,
        dedupe=dedupe,
    )
    return f"OK: {LABELS[category]} should be done within {value} of the request."
