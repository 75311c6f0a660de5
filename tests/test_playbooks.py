"""Versioned playbooks: validated at start with the exact field, listed with their runs, and a run
planned under one version finishing under it after the next version ships."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from graphs.intents import INTENT_KINDS
from graphs.plans import plan_for
from graphs.playbooks import BUILTIN_DIR, NO_RUN_KINDS, PlaybookError, _check_together, load_playbooks, use_playbooks
from graphs.step_kit import StepResult
from graphs.step_registry import STEPS
from tests.conftest import REPO
from tests.test_core_loop import RETAINER

GLOBEX = "Globex signed the retainer: $2,500 a month, 2 design rounds, bill on the 15th, contact max@globex.example"


@pytest.fixture(autouse=True)
def builtin_playbooks_afterwards():
    """Whatever a test plans with, the next one starts from the built-ins."""
    yield
    use_playbooks(None)


def latest_retainer() -> Any:
    book = load_playbooks().latest_for("retainer_signup")
    assert book is not None
    return book


def write(directory: Path, file: str, data: dict[str, Any] | str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def next_retainer(**changes: Any) -> tuple[str, dict[str, Any]]:
    """A valid next version of the retainer playbook, with ``changes`` applied."""
    base = latest_retainer()
    data = {
        "name": "retainer",
        "version": base.version + 1,
        "trigger": "retainer_signup",
        "lead": base.lead,
        "description": "Retainer with a welcome pack.",
        "steps": [*base.steps, "record_client"],
        "migration": f"v{base.version} runs finish their own steps; nothing to do.",
    }
    data.update(changes)
    version = data["version"] if isinstance(data["version"], int) else base.version + 1
    return f"retainer.v{version}.yaml", data


def problems_for(tmp_path: Path, *files: tuple[str, dict[str, Any] | str]) -> list[str]:
    for name, data in files:
        write(tmp_path, name, data)
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(tmp_path)
    return caught.value.problems


# -- the built-ins ----------------------------------------------------------------------------


def test_every_intent_kind_that_starts_a_run_has_a_valid_playbook():
    playbooks = load_playbooks()
    for kind in INTENT_KINDS:
        book = plan_for(kind)
        if kind in NO_RUN_KINDS:  # help, unknown, small talk: answered at once
            assert book is None
            continue
        assert book is not None, kind
        assert book.trigger == kind and all(step in STEPS for step in book.steps)
        assert playbooks.is_latest(book)
    v1 = playbooks.get("retainer", 1)
    assert v1 is not None and v1.steps == ("record_retainer", "prepare_proposal") and v1.migration is None
    assert {p.name for p in playbooks.all()} >= {"retainer", "invoice", "proposal", "email", "payment"}


# -- invalid playbooks name the file and the field ------------------------------------------


def test_unknown_step_names_its_index(tmp_path):
    name, data = next_retainer()
    data["steps"] = ["record_retainer", "prepare_proposal", "configure_bilingg"]
    assert problems_for(tmp_path, (name, data)) == [f"{tmp_path / name}: steps[2]: unknown step 'configure_bilingg'"]


def test_unknown_agent_trigger_and_typo_fields_are_each_named(tmp_path):
    name, data = next_retainer(lead="proposal_draftr", trigger="retainer_sigup")
    data["stpes"] = data.pop("steps")
    problems = problems_for(tmp_path, (name, data))
    label = tmp_path / name
    assert problems[0].startswith(f"{label}: stpes: unknown field (did you mean 'steps'?)")
    assert f"{label}: trigger: unknown intent kind 'retainer_sigup' (did you mean 'retainer_signup'?)" in problems
    assert any(
        p.startswith(f"{label}: lead: unknown agent 'proposal_draftr' (did you mean 'proposal_drafter'?)")
        for p in problems
    )
    assert f"{label}: steps: required field is missing" in problems


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"version": "two"}, "version: should be a whole number (got 'two')"),
        ({"trigger": "help"}, "trigger: 'help' intents are answered at once and never start a run"),
        ({"steps": []}, "steps: Tuple should have at least 1 item after validation, not 0"),
        ({"steps": "record_retainer"}, "steps: should be a list (got 'record_retainer')"),
        ({"migration": None}, "migration: required from version 2 on: say how v{prev} runs move to v{this}"),
        (
            {"steps": ["record_retainer", "prepare_proposal", "record_retainer"]},
            "steps[2]: 'record_retainer' is already steps[0]; a step runs once per run",
        ),
        ({"name": "Retainer"}, "name: String should match pattern '^[a-z][a-z0-9_]*$'"),
        (
            {"trigger": "new_client"},
            "trigger: 'new_client' differs from v1's 'retainer_signup'; a playbook keeps its trigger",
        ),
    ],
)
def test_field_problems(tmp_path, changes, problem):
    name, data = next_retainer(**changes)
    this = latest_retainer().version + 1
    expected = f"{tmp_path / name}: " + problem.format(prev=this - 1, this=this)
    problems = problems_for(tmp_path, (name, data))
    assert any(p.startswith(expected) for p in problems), problems


def test_file_level_problems(tmp_path):
    name, data = next_retainer()
    problems = problems_for(
        tmp_path,
        ("Retainer-2.yaml", data),  # not NAME.vN.yaml
        (name.replace(".v", ".v9"), data),  # the version inside says otherwise
        ("broken.v1.yaml", "name: broken\nsteps: [record_client\n"),
        ("list.v1.yaml", "- record_client\n"),
        ("first.v1.yaml", {**data, "name": "first", "trigger": "add_task", "version": 1}),  # v1 has no migration
    )
    assert f"{tmp_path}/Retainer-2.yaml: file name should be NAME.vN.yaml, e.g. retainer.v2.yaml" in problems
    assert any(
        p.startswith(f"{tmp_path}/{name.replace('.v', '.v9')}: version: {data['version']} does not match the file name")
        for p in problems
    )
    assert any(p.startswith(f"{tmp_path}/broken.v1.yaml: line 3: not valid YAML") for p in problems), problems
    assert (
        f"{tmp_path}/list.v1.yaml: should hold the playbook's fields (name, version, trigger, lead, steps, …)"
        in problems
    )
    assert (
        f"{tmp_path}/first.v1.yaml: migration: version 1 has no earlier version to migrate from; remove it" in problems
    )


def test_duplicate_versions_and_gaps(tmp_path):
    latest = latest_retainer()
    again = (BUILTIN_DIR / "retainer.v1.yaml").read_text()
    name, skipping = next_retainer(version=latest.version + 2)
    problems = problems_for(tmp_path, ("retainer.v1.yaml", again), (name, skipping))
    versions = ", ".join(str(v) for v in [*range(1, latest.version + 1), latest.version + 2])
    assert problems == [
        f"{tmp_path}/retainer.v1.yaml: version: retainer v1 is already defined in retainer.v1.yaml",
        f"{tmp_path}/{name}: version: retainer has versions {versions}; v{latest.version + 1} missing "
        "(versions go 1, 2, 3 … without gaps)",
    ]


def test_two_playbooks_for_one_trigger_blame_the_operators_file(tmp_path):
    latest = latest_retainer()
    rival = {
        "name": "onboarding",
        "version": 1,
        "trigger": "retainer_signup",
        "lead": "intake",
        "description": "Another way to start a retainer.",
        "steps": ["record_retainer"],
    }
    assert problems_for(tmp_path, ("onboarding.v1.yaml", rival)) == [
        f"{tmp_path}/onboarding.v1.yaml: trigger: 'retainer_signup' already starts retainer (latest "
        f"v{latest.version}, retainer.v{latest.version}.yaml); one playbook per intent kind"
    ]


def test_every_parsed_kind_needs_a_playbook_and_the_directory_must_exist(tmp_path):
    without = [b for b in load_playbooks().all() if b.trigger != "add_task"]
    assert _check_together(without) == [
        "playbooks: trigger: no playbook starts 'add_task' intents; add NAME.v1.yaml with trigger: add_task"
    ]
    with pytest.raises(PlaybookError, match="playbooks directory does not exist"):
        load_playbooks(tmp_path / "missing")


def test_error_message_is_the_first_problem_and_a_count():
    error = PlaybookError(["a.v1.yaml: lead: unknown agent 'x'", "b.v1.yaml: steps[0]: unknown step 'y'"])
    assert str(error) == "a.v1.yaml: lead: unknown agent 'x' (and 1 more problem: see `coo playbooks`)"


def _coo(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("COO_")} | env
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input="hello\n",
        capture_output=True,
        text=True,
        env=full,
        cwd=REPO,
        timeout=60,
    )


@pytest.mark.slow  # starts `coo worker` as a process
def test_invalid_playbook_stops_chat_and_worker_at_start_with_one_line(coo, coo_env, tmp_path):
    name, data = next_retainer()
    data["steps"] = ["record_retainer", "prepare_proposal", "configure_bilingg"]
    write(tmp_path / "own", name, data)
    env = {"COO_PLAYBOOKS_DIR": str(tmp_path / "own"), "COO_REDIS_URL": "redis://127.0.0.1:1/0"}
    # The worker as the process a service manager starts; chat and the listing in process
    # (the same main(), a second of imports each saved).
    for result in (_coo(["worker"], {**coo_env, **env}), coo(["chat"], env, stdin="hello\n")):
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            f"coo: invalid playbook: {tmp_path / 'own' / name}: steps[2]: unknown step 'configure_bilingg'"
        ]
    listing = coo(["playbooks"], env)
    assert listing.returncode == 2
    assert f"  {tmp_path / 'own' / name}: steps[2]: unknown step 'configure_bilingg'" in listing.stderr.splitlines()


# -- runs keep their version -----------------------------------------------------------------


def welcome_pack(deps: Any, state: dict[str, Any]) -> StepResult:
    """A step only the test's v(N+1) has."""
    client = deps.store.clients.get(state["client_id"])
    return StepResult(notes=[f"Welcome pack ready for {client.name}."])


def step_names(store: Any, run_id: str) -> list[str]:
    return [e.step for e in store.ledger.events(run_id) if e.kind == "step_done"]


def test_run_started_under_v1_finishes_under_v1_after_v2_ships(chat, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(STEPS, "welcome_pack", welcome_pack)
    store = chat.runtime.store
    before = load_playbooks()
    use_playbooks(before)
    old = before.latest_for("retainer_signup")
    assert old is not None

    shown = chat.say(RETAINER)
    assert "[/approve 1]" in shown
    first = store.runs.recent(1)[0]
    assert first.status == "waiting_approval"
    assert store.runs.playbook_of(first.id) == ("retainer", old.version)
    planned = next(e for e in store.ledger.events(first.id) if e.kind == "planned")
    assert planned.payload["playbook"] == "retainer" and planned.payload["version"] == old.version
    assert planned.payload["steps"] == list(old.steps)

    # v(N+1) ships while the first run waits at its approval.
    own = tmp_path / "own"
    new_version = old.version + 1
    write(
        own,
        f"retainer.v{new_version}.yaml",
        {
            "name": "retainer",
            "version": new_version,
            "trigger": "retainer_signup",
            "lead": old.lead,
            "description": "Retainer, then a welcome pack.",
            "steps": [*old.steps, "welcome_pack"],
            "migration": f"v{old.version} runs finish without the welcome pack; send it by hand.",
        },
    )
    use_playbooks(load_playbooks(own))
    assert plan_for("retainer_signup").version == new_version  # type: ignore[union-attr]  # a None here fails the test anyway

    shown = chat.say("/approve 1")
    assert "Sent proposal #P-0001 to jane@acme.example" in shown and "Welcome pack" not in shown
    assert store.runs.get(first.id).status == "done"
    assert step_names(store, first.id) == list(old.steps)
    assert store.runs.playbook_of(first.id) == ("retainer", old.version)

    shown = chat.say(GLOBEX)
    second = store.runs.recent(1)[0]
    assert second.id != first.id and store.runs.playbook_of(second.id) == ("retainer", new_version)
    shown = chat.say("/approve 2")
    assert "Welcome pack ready for Globex." in shown
    assert step_names(store, second.id) == [*old.steps, "welcome_pack"]

    # `coo playbooks` shows both versions, the runs on each and the migration note.
    from bot.cli import main

    monkeypatch.setenv("COO_DATABASE_URL", chat.runtime.settings.database)
    monkeypatch.setenv("COO_PLAYBOOKS_DIR", str(own))
    capsys.readouterr()
    assert main(["playbooks"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "retainer — started by retainer_signup intents: Retainer, then a welcome pack." in lines
    top = lines.index(
        f"  v{new_version} (latest: new runs) · lead {old.lead} (queue {old.agent.queue}) · from "
        f"{own / f'retainer.v{new_version}.yaml'}"
    )
    assert lines[top + 1] == f"      steps: {' → '.join([*old.steps, 'welcome_pack'])}"
    assert lines[top + 2] == "      runs: 1 total · 0 waiting · 1 done"
    assert (
        f"      migration from v{old.version}: v{old.version} runs finish without the welcome pack; send it "
        "by hand." in lines
    )
    under = lines.index(
        f"  v{old.version} · lead {old.lead} (queue {old.agent.queue}) · from retainer.v{old.version}.yaml"
    )
    assert lines[under + 2] == "      runs: 1 total · 0 waiting · 1 done"
    assert "invoice — started by create_invoice intents:" in out


def test_listing_counts_waiting_runs_and_runs_not_planned_yet(chat, monkeypatch, capsys):
    chat.say(RETAINER)
    store = chat.runtime.store
    with store.db.transaction() as tx:
        store.runs.create(tx, "r-queued", None, "add_task", "console", "t-1", "ana")
    from bot.cli import main

    monkeypatch.setenv("COO_DATABASE_URL", chat.runtime.settings.database)
    assert main(["playbooks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    latest = latest_retainer()
    top = lines.index(
        f"  v{latest.version} (latest: new runs) · lead {latest.lead} (queue {latest.agent.queue}) · "
        f"from retainer.v{latest.version}.yaml"
    )
    assert lines[top + 2] == "      runs: 1 total · 1 waiting · 0 done"
    assert (
        "Not planned yet: 1 total · 0 waiting · 0 done · 1 in progress; queued runs will follow the latest "
        "version." in lines
    )


@pytest.mark.empty_database  # migrates from an older schema itself
def test_migration_records_old_runs_as_v1_and_leaves_queued_runs_unplanned(db_url, clock, monkeypatch):
    from store import migrations
    from store.db import Database
    from store.ledger import Ledger
    from store.runs import RunStore

    index = migrations.MIGRATIONS.index(migrations._RUN_PLAYBOOKS)
    db = Database.from_url(db_url)
    try:
        monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:index])
        migrations.migrate(db)
        runs = RunStore(db, clock)
        with db.transaction() as tx:
            for run_id, kind in (
                ("r-a", "retainer_signup"),
                ("r-b", "create_invoice"),
                ("r-c", "new_client"),
                ("r-d", "retainer_signup"),
            ):
                runs.create(tx, run_id, None, kind, "console", "t", "ana")
        for run_id, status in (("r-a", "done"), ("r-b", "waiting_approval"), ("r-d", "done")):
            runs.set_status(run_id, status)
        ledger = Ledger(db, clock)
        ledger.append("r-a", "plan", "planned", {"steps": ["record_retainer", "prepare_proposal"]})
        # Planned after schedule_recurring joined the retainer plan, before plans had versions.
        ledger.append(
            "r-d", "plan", "planned", {"steps": ["record_retainer", "prepare_proposal", "schedule_recurring"]}
        )
        monkeypatch.undo()
        migrations.migrate(db)
        assert runs.playbook_of("r-a") == ("retainer", 1)
        assert runs.playbook_of("r-d") == ("retainer", 2)
        assert runs.playbook_of("r-b") == ("invoice", 1)
        assert runs.playbook_of("r-c") is None  # queued: planned with the latest version when it starts
        assert runs.playbook_counts() == {
            ("retainer", 1): {"done": 1},
            ("retainer", 2): {"done": 1},
            ("invoice", 1): {"waiting_approval": 1},
            ("", 0): {"queued": 1},
        }
    finally:
        db.close()


def test_run_replanned_after_a_crash_keeps_its_recorded_version(chat, tmp_path, monkeypatch):
    """A worker that died after planning but before the first checkpoint: the retried job plans
    again, with the version the run already has, not the one shipped meanwhile."""
    monkeypatch.setitem(STEPS, "welcome_pack", welcome_pack)
    runtime = chat.runtime
    store = runtime.store
    old = latest_retainer()
    intent = runtime.parser.parse(GLOBEX, store.clock.today()).intent.model_dump(mode="json")
    with store.db.transaction() as tx:
        accepted, _ = store.conversations.accept(
            tx, "console:crash-1", "console", "t-crash", "ana", GLOBEX, intent, run_id="r-crashed"
        )
        store.runs.create(tx, "r-crashed", accepted.id, "retainer_signup", "console", "t-crash", "ana")
        store.runs.set_playbook("r-crashed", "retainer", old.version, tx=tx)  # what the dead attempt recorded
    write(
        tmp_path,
        f"retainer.v{old.version + 1}.yaml",
        {
            "name": "retainer",
            "version": old.version + 1,
            "trigger": "retainer_signup",
            "lead": old.lead,
            "description": "Retainer, then a welcome pack.",
            "steps": [*old.steps, "welcome_pack"],
            "migration": "Older runs finish as planned.",
        },
    )
    use_playbooks(load_playbooks(tmp_path))

    runtime.supervisor.start("r-crashed")
    assert store.runs.get("r-crashed").status == "waiting_approval"
    assert store.runs.playbook_of("r-crashed") == ("retainer", old.version)
    planned = next(e for e in store.ledger.events("r-crashed") if e.kind == "planned")
    assert planned.payload["version"] == old.version and planned.payload["steps"] == list(old.steps)
    state = runtime.supervisor.graph.get_state({"configurable": {"thread_id": "r-crashed"}}).values
    assert state["plan"] == list(old.steps)
