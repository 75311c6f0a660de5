"""`GET /metrics`: coo's figures in the Prometheus text format (prometheus-client).

Every number is read from the ledger and the store when Prometheus scrapes (a custom collector
on a registry of its own), so it equals what the ledger says, survives restarts and counts the
work of every worker process. Queue depths come from the job queue itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

from store.observability import Figures


class LedgerCollector(Collector):
    def __init__(self, figures: Callable[[], Figures], depths: Callable[[], dict[str, int]]) -> None:
        self._figures = figures
        self._depths = depths

    def collect(self) -> Iterator[Metric]:
        f = self._figures()
        runs = GaugeMetricFamily("coo_runs", "Runs by kind and current status (outcome)", labels=["kind", "status"])
        for kind, by in sorted(f.runs.items()):
            for status, n in sorted(by.items()):
                runs.add_metric([kind, status], n)
        yield runs
        yield GaugeMetricFamily(
            "coo_approvals_waiting", "Approvals waiting for the operator", value=f.approvals_waiting
        )
        latency = SummaryMetricFamily(
            "coo_decision_latency_seconds",
            "Time from an approval card to its decision",
            labels=["agent", "via"],
        )
        counts: dict[tuple[str, str], int] = {}
        sums: dict[tuple[str, str], float] = {}
        for d in f.decisions:
            group = (d.agent, "autonomy" if d.autonomy else "operator")
            counts[group] = counts.get(group, 0) + d.count
            sums[group] = sums.get(group, 0.0) + d.seconds
        for (agent, via), count in sorted(counts.items()):
            latency.add_metric([agent, via], count_value=count, sum_value=sums[(agent, via)])
        yield latency
        decisions = CounterMetricFamily(
            "coo_decisions",
            "Approvals decided, by agent, decision and whether the draft was edited",
            labels=["agent", "decision", "edited"],
        )
        counted: dict[tuple[str, str, str], int] = {}
        for d in f.decisions:
            key = (d.agent, d.decision, "yes" if d.edited else "no")
            counted[key] = counted.get(key, 0) + d.count
        for key, n in sorted(counted.items()):
            decisions.add_metric(list(key), n)
        yield decisions
        effects = GaugeMetricFamily(
            "coo_side_effects", "External side effects by action and outcome", labels=["action", "outcome"]
        )
        for action, by in sorted(f.side_effects.items()):
            for outcome, n in sorted(by.items()):
                effects.add_metric([action, outcome], n)
        yield effects
        tokens = CounterMetricFamily(
            "coo_model_tokens", "Model tokens by tier, agent and direction", labels=["tier", "agent", "direction"]
        )
        cost = CounterMetricFamily(
            "coo_model_cost_usd", "Model cost in USD by tier and agent", labels=["tier", "agent"]
        )
        calls = CounterMetricFamily("coo_model_calls", "Model calls by tier and agent", labels=["tier", "agent"])
        totals: dict[tuple[str, str], list[float]] = {}
        for use in f.model:
            t = totals.setdefault((use.tier, use.agent), [0.0, 0.0, 0.0, 0.0])
            t[0] += use.prompt_tokens
            t[1] += use.completion_tokens
            t[2] += use.cost_usd
            t[3] += use.calls
        for (tier, agent), (prompt, completion, usd, made) in sorted(totals.items()):
            tokens.add_metric([tier, agent, "prompt"], prompt)
            tokens.add_metric([tier, agent, "completion"], completion)
            cost.add_metric([tier, agent], round(usd, 6))
            calls.add_metric([tier, agent], made)
        yield tokens
        yield cost
        yield calls
        depths = GaugeMetricFamily("coo_queue_depth", "Jobs waiting per queue", labels=["queue"])
        for name, n in sorted(self._depths().items()):
            depths.add_metric([name], n)
        yield depths
        retries = CounterMetricFamily(
            "coo_job_retries", "Job attempts after the first that the queue ran, by job", labels=["job"]
        )
        for job, n in sorted(f.job_retries.items()):
            retries.add_metric([job], n)
        yield retries
        yield CounterMetricFamily(
            "coo_send_retries", "Send attempts after the first (scheduled retries and /resend)", value=f.send_retries
        )
        failures = CounterMetricFamily(
            "coo_delivery_failures", "Chat messages a platform did not take", labels=["platform"]
        )
        for platform, n in sorted(f.delivery_failures.items()):
            failures.add_metric([platform], n)
        yield failures


def render(figures: Callable[[], Figures], depths: Callable[[], dict[str, int]]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(figures, depths))
    return generate_latest(registry)
