"""`coo policy`, `coo costs` and `coo dashboard-link`: the policy and the figures in the terminal."""

from __future__ import annotations

import argparse
import getpass
import shlex
import uuid


def cmd_policy(args: argparse.Namespace) -> int:
    from agents.budget import Budget, parse_prices
    from bot.cli import _store
    from bot.settings import load_settings
    from graphs.policy_command import policy_command

    settings = load_settings()
    store = _store(args, settings)
    try:
        budget = Budget(
            store.db,
            store.clock,
            store.autonomy_rules,
            daily=settings.daily_cost_cap,
            monthly=settings.monthly_cost_cap,
            prices=parse_prices(settings.model_prices),
        )
        rest = shlex.join(args.words)
        by = f"cli:{getpass.getuser()}"
        print(policy_command(store, rest, by=by, via="cli", dedupe=f"cli-{uuid.uuid4().hex}", budget=budget))
    finally:
        store.close()
    return 0


def cmd_costs(args: argparse.Namespace) -> int:
    from bot.cli import _store
    from bot.figures_view import build_view, render_text
    from bot.settings import load_settings
    from store.jobqueue import RQQueue

    settings = load_settings()
    store = _store(args, settings)
    try:
        # The embedded queue lives inside `coo chat`/`coo serve`; only Redis queues are visible from here.
        depths = RQQueue(settings.redis_url).depths() if settings.redis_url else {}
        print(render_text(build_view(store, store.observability.figures(), depths)))
    finally:
        store.close()
    return 0


def cmd_dashboard_link(args: argparse.Namespace) -> int:
    from bot.dashboard import dashboard_link
    from bot.settings import load_settings

    print(dashboard_link(load_settings()))
    print("Open it in a browser while `coo serve` runs; anyone with this link sees the figures (no client content).")
    return 0


def add_policy_parsers(sub: argparse._SubParsersAction) -> None:
    policy = sub.add_parser(
        "policy",
        help="show autonomy per agent and kind of work; set one: coo policy AGENT KIND ask|ask-external|auto "
        "[client=NAME] [max=AMOUNT [CUR]] [any-address]; coo policy streak N",
    )
    policy.add_argument("words", nargs=argparse.REMAINDER)
    policy.set_defaults(func=cmd_policy)
    costs = sub.add_parser(
        "costs", help="the dashboard's figures in the terminal: cost by day, tier and agent, error rate, …"
    )
    costs.set_defaults(func=cmd_costs)
    link = sub.add_parser("dashboard-link", help="print the token link that opens /dashboard in coo serve")
    link.set_defaults(func=cmd_dashboard_link)
