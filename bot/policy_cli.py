"""`coo policy`, `coo costs` and `coo dashboard-link`: the policy and the figures in the terminal."""

from __future__ import annotations

import argparse
import getpass
import shlex
import uuid


def cmd_policy(args: argparse.Namespace) -> int:
    from bot.cli import _store
    from bot.settings import load_settings
    from graphs.policy_command import policy_command

    store = _store(args, load_settings())
    try:
        rest = shlex.join(args.words)
        by = f"cli:{getpass.getuser()}"
        print(policy_command(store, rest, by=by, via="cli", dedupe=f"cli-{uuid.uuid4().hex}"))
    finally:
        store.close()
    return 0


def add_policy_parsers(sub: argparse._SubParsersAction) -> None:
    policy = sub.add_parser(
        "policy",
        help="show autonomy per agent and kind of work; set one: coo policy AGENT KIND ask|ask-external|auto "
        "[client=NAME] [max=AMOUNT [CUR]] [any-address]; coo policy streak N",
    )
    policy.add_argument("words", nargs=argparse.REMAINDER)
    policy.set_defaults(func=cmd_policy)
