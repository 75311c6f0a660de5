"""The figures `/dashboard` and `coo costs` show, computed once from the ledger (store.observability)
so the page and the terminal always say the same. No client content: runs are named by id and
kind, agents by name; no client names, addresses or message text.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from agents.slas import Breach, breaches, describe
from store.facade import Store
from store.observability import Figures


class Headline(BaseModel):
    key: str  # the element's data-figure on the dashboard
    label: str
    value: str


class ApprovalRate(BaseModel):
    agent: str
    level: str
    approved: int
    decided: int

    @property
    def rate(self) -> str:
        return f"{self.approved / self.decided:.0%}" if self.decided else "—"


class View(BaseModel):
    headlines: list[Headline]
    cost_by_day: dict[date, dict[str, float]]  # day → "tier/agent" → USD
    approval_rates: list[ApprovalRate]
    breaches: list[str]
    depths: dict[str, int]


def _money(usd: float | None) -> str:
    return "—" if usd is None else f"${usd:.4f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def build_view(store: Store, figures: Figures, depths: dict[str, int]) -> View:
    late: list[Breach] = breaches(store)
    headlines = [
        Headline(key="cost_total", label="Model cost, all time", value=_money(figures.cost_usd)),
        Headline(key="cost_per_task", label="Cost per completed task", value=_money(figures.cost_per_completed_task)),
        Headline(key="tasks_done", label="Completed tasks", value=str(figures.runs_total("done"))),
        Headline(key="error_rate", label="Error rate (failed or uncertain sends)", value=f"{figures.error_rate:.1%}"),
        Headline(
            key="decision_time",
            label="Average human decision time",
            value=_duration(figures.human_decision_seconds),
        ),
        Headline(key="approvals_waiting", label="Approvals waiting", value=str(figures.approvals_waiting)),
        Headline(key="sla_breaches", label="SLA breaches", value=str(len(late))),
        Headline(key="queue_depth", label="Jobs waiting in the queues", value=str(sum(depths.values()))),
    ]
    rates = [
        ApprovalRate(agent=agent, level=level, approved=approved, decided=decided)
        for (agent, level), (approved, decided) in figures.approval_rates().items()
    ]
    return View(
        headlines=headlines,
        cost_by_day=figures.cost_by_day(),
        approval_rates=rates,
        breaches=[describe(store, b) for b in late],
        depths=depths,
    )


def render_text(view: View) -> str:
    """`coo costs`: the dashboard's figures as terminal lines."""
    width = max(len(h.label) for h in view.headlines)
    lines = [f"{h.label:<{width}}  {h.value}" for h in view.headlines]
    lines.append("")
    lines.append("Cost per day by tier/agent:")
    if not view.cost_by_day:
        lines.append("  (no model calls yet)")
    for day, by in view.cost_by_day.items():
        parts = ", ".join(f"{key} ${usd:.4f}" for key, usd in sorted(by.items()))
        lines.append(f"  {day.isoformat()}  ${sum(by.values()):.4f}  ({parts})")
    lines.append("Approval rate per agent and autonomy level:")
    if not view.approval_rates:
        lines.append("  (nothing decided yet)")
    for rate in view.approval_rates:
        lines.append(f"  {rate.agent} ({rate.level}): {rate.rate} — {rate.approved} of {rate.decided} approved")
    lines.append("SLA breaches:")
    lines.extend(f"  {b}" for b in view.breaches) if view.breaches else lines.append("  none")
    lines.append("Queue depths: " + (", ".join(f"{q} {n}" for q, n in sorted(view.depths.items())) or "all empty"))
    return "\n".join(lines)
