"""Which steps an intent runs, and which agent leads it (its queue, timeout and retries).

The answer is a playbook (graphs/playbooks/NAME.vN.yaml): the latest version of the one the
intent kind triggers. Runs already planned keep the steps they were planned with.
"""

from __future__ import annotations

from graphs.playbooks import Playbook, active_playbooks
from store.runs import RunStore


def plan_for(kind: str) -> Playbook | None:
    """The playbook a new run of this intent kind follows; None for kinds answered without a
    run (help, unknown)."""
    return active_playbooks().latest_for(kind)


def playbook(name: str, version: int) -> Playbook | None:
    """One version of a playbook (a run's own, which may no longer be the latest)."""
    return active_playbooks().get(name, version)


def plan_for_run(runs: RunStore, run_id: str, kind: str) -> Playbook | None:
    """The playbook a run was planned with (its resume goes to that version's lead agent's
    queue), or the latest for its kind when it has not been planned yet."""
    planned = runs.playbook_of(run_id)
    return (playbook(*planned) if planned else None) or plan_for(kind)
