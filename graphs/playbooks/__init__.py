"""Playbooks: the steps an intent kind runs, declared as versioned, validated YAML data.

One file per version, ``NAME.vN.yaml``: the built-ins live beside this module, an operator's
own (new playbooks, or newer versions of built-ins) in a directory of their choosing
(``COO_PLAYBOOKS_DIR``, read by the composition root). The latest version of each playbook
plans new runs. A run keeps the step list it was planned with — it is in the run's LangGraph
checkpoint — so shipping v2 never changes a run that started under v1. That is also why every
version stays loaded and validated, not just the latest: an unfinished v1 run still needs its
steps and its lead agent to exist.

Anything wrong stops the start with the file and the exact field: ``retainer.v2.yaml:
steps[2]: unknown step 'configure_bilingg'``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from pydantic_core import ErrorDetails

from agents.registry import AGENTS, AgentSpec
from graphs.intents import INTENT_CLASSES, INTENT_KINDS
from graphs.step_registry import STEPS

BUILTIN_DIR = Path(__file__).resolve().parent
_FILE_NAME = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.ya?ml$")

# Kinds answered at once, without a run.
NO_RUN_KINDS = frozenset({"help", "unknown", "small_talk"})


# A playbook may start on any kind the core can build; every kind the parser can produce must
# have one, or a message of that kind would be accepted and then have nothing to run.
TRIGGERS = frozenset(INTENT_CLASSES) - NO_RUN_KINDS
REQUIRED_TRIGGERS = tuple(k for k in INTENT_KINDS if k not in NO_RUN_KINDS)


class PlaybookError(Exception):
    """One or more playbooks are invalid; each problem names the file and the field."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        more = len(self.problems) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''}: see `coo playbooks`)" if more else ""
        super().__init__(self.problems[0] + tail)


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _known_step(name: str) -> str:
    if name not in STEPS:
        raise ValueError(f"unknown step {name!r}{_did_you_mean(name, STEPS)}")
    return name


StepName = Annotated[str, AfterValidator(_known_step)]


class Playbook(BaseModel):
    """One version of a playbook, exactly as its file declares it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1, strict=True)
    description: str = Field(min_length=1)
    trigger: str  # the intent kind that starts it
    lead: str  # the agent whose queue, timeout and retries the run's jobs get
    steps: tuple[StepName, ...] = Field(min_length=1)
    notes: str | None = None
    migration: str | None = None  # how runs of the previous version move to this one

    # Where it was loaded from, for messages; not part of the file.
    _source: Path = PrivateAttr(default=BUILTIN_DIR)

    @field_validator("trigger")
    @classmethod
    def _known_trigger(cls, kind: str) -> str:
        if kind in NO_RUN_KINDS:
            raise ValueError(f"{kind!r} intents are answered at once and never start a run")
        if kind not in TRIGGERS:
            raise ValueError(f"unknown intent kind {kind!r}{_did_you_mean(kind, TRIGGERS)}")
        return kind

    @field_validator("lead")
    @classmethod
    def _known_agent(cls, name: str) -> str:
        if name not in AGENTS:
            raise ValueError(f"unknown agent {name!r}{_did_you_mean(name, AGENTS)}; agents: {', '.join(AGENTS)}")
        return name

    @field_validator("migration")
    @classmethod
    def _migration_fits_version(cls, note: str | None, info: Any) -> str | None:
        version = info.data.get("version")
        if version == 1 and note is not None:
            raise ValueError("version 1 has no earlier version to migrate from; remove it")
        if isinstance(version, int) and version > 1 and not (note and note.strip()):
            raise ValueError(f"required from version 2 on: say how v{version - 1} runs move to v{version}")
        return note

    @property
    def agent(self) -> AgentSpec:
        return AGENTS[self.lead]

    @property
    def builtin(self) -> bool:
        return self._source == BUILTIN_DIR

    @property
    def path(self) -> Path:
        return self._source / f"{self.name}.v{self.version}.yaml"

    @property
    def label(self) -> str:
        """The file as messages name it: bare for built-ins, the full path for an operator's own."""
        file = f"{self.name}.v{self.version}.yaml"
        return file if self._source == BUILTIN_DIR else str(self._source / file)


class Playbooks:
    """Every loaded version; the latest version per trigger plans new runs."""

    def __init__(self, books: Iterable[Playbook]) -> None:
        self._all = sorted(books, key=lambda b: (b.name, b.version))
        self._by_key = {(b.name, b.version): b for b in self._all}
        latest: dict[str, Playbook] = {}
        for book in self._all:  # sorted by version, so the last one seen wins
            latest[book.name] = book
        self._latest_by_trigger = {b.trigger: b for b in latest.values()}

    def latest_for(self, kind: str) -> Playbook | None:
        """The playbook version a new run of this intent kind uses; None when it starts no run."""
        return self._latest_by_trigger.get(kind)

    def get(self, name: str, version: int) -> Playbook | None:
        return self._by_key.get((name, version))

    def all(self) -> list[Playbook]:
        """Every version of every playbook, by name then version."""
        return list(self._all)

    def is_latest(self, book: Playbook) -> bool:
        latest = self._latest_by_trigger.get(book.trigger)
        return latest is not None and (latest.name, latest.version) == (book.name, book.version)


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(file)"


_MESSAGES = {
    "missing": "required field is missing",
    "tuple_type": "should be a list",
    "int_type": "should be a whole number",
    "string_type": "should be text",
}


def _describe(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        fields = ", ".join(Playbook.model_fields)
        return f"unknown field{_did_you_mean(str(error['loc'][-1]), Playbook.model_fields)}; a playbook has {fields}"
    message = _MESSAGES.get(error["type"], error["msg"])
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    if error["type"] != "missing" and error["type"] in _MESSAGES:
        return f"{message} (got {error['input']!r})"
    return message


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path, label: str, problems: list[str]) -> Playbook | None:
    """One file → one playbook, or None with its problems appended."""
    named = _FILE_NAME.match(path.name)
    if named is None:
        problems.append(f"{label}: file name should be NAME.vN.yaml, e.g. retainer.v2.yaml")
        return None
    try:
        # libyaml's safe loader when PyYAML has it: a quarter of the pure-Python one's time, and
        # every runtime (each process, each test) reads all the built-in playbooks.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problems.append(f"{label}: {where}not valid YAML ({getattr(exc, 'problem', None) or exc})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{label}: should hold the playbook's fields (name, version, trigger, lead, steps, …)")
        return None
    try:
        book = Playbook.model_validate(data)
    except ValidationError as exc:
        # A misspelt field first: "stpes: unknown field" explains the "steps: missing" after it.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        problems.extend(f"{label}: {_field_path(e['loc'])}: {_describe(e)}" for e in errors)
        return None
    book._source = path.parent
    mismatched = False
    if book.name != named["name"]:
        problems.append(f"{label}: name: {book.name!r} does not match the file name (expected {named['name']!r})")
        mismatched = True
    if book.version != int(named["version"]):
        problems.append(f"{label}: version: {book.version} does not match the file name (expected {named['version']})")
        mismatched = True
    repeated: dict[str, int] = {}
    for index, step in enumerate(book.steps):
        if step in repeated:
            # Approvals are keyed by (run, step): a step that ran twice would find the first answer.
            problems.append(
                f"{label}: steps[{index}]: {step!r} is already steps[{repeated[step]}]; a step runs once per run"
            )
            mismatched = True
        repeated.setdefault(step, index)
    return None if mismatched else book


def _check_together(books: list[Playbook]) -> list[str]:
    """What no single file can get wrong on its own: duplicates, gaps, triggers, coverage."""
    problems: list[str] = []
    by_name: dict[str, dict[int, Playbook]] = {}
    for book in books:
        versions = by_name.setdefault(book.name, {})
        if book.version in versions:
            problems.append(
                f"{book.label}: version: {book.name} v{book.version} is already defined in "
                f"{versions[book.version].label}"
            )
            continue
        versions[book.version] = book
    latest_by_trigger: dict[str, Playbook] = {}
    # Built-ins first, so a clash is reported on the operator's file, the one to fix.
    order = sorted(by_name.items(), key=lambda item: (any(b._source != BUILTIN_DIR for b in item[1].values()), item[0]))
    for name, versions in order:
        numbers = sorted(versions)
        gaps = [v for v in range(1, numbers[-1] + 1) if v not in versions]
        latest = versions[numbers[-1]]
        if gaps:
            problems.append(
                f"{latest.label}: version: {name} has versions {', '.join(map(str, numbers))}; "
                f"{', '.join(f'v{v}' for v in gaps)} missing (versions go 1, 2, 3 … without gaps)"
            )
        for number in numbers[:-1]:
            older = versions[number]
            if older.trigger != latest.trigger:
                # Runs of one playbook must stay comparable across versions: a migration note
                # moves v1 runs of one kind of work to v2, not to different work.
                problems.append(
                    f"{latest.label}: trigger: {latest.trigger!r} differs from v{number}'s "
                    f"{older.trigger!r}; a playbook keeps its trigger (start a new playbook instead)"
                )
                break
        other = latest_by_trigger.get(latest.trigger)
        if other is not None:
            problems.append(
                f"{latest.label}: trigger: {latest.trigger!r} already starts {other.name} "
                f"(latest v{other.version}, {other.label}); one playbook per intent kind"
            )
            continue
        latest_by_trigger[latest.trigger] = latest
    for kind in REQUIRED_TRIGGERS:
        if kind not in latest_by_trigger:
            problems.append(
                f"playbooks: trigger: no playbook starts {kind!r} intents; add NAME.v1.yaml with trigger: {kind}"
            )
    return problems


def load_playbooks(*directories: Path) -> Playbooks:
    """The built-in playbooks plus those in ``directories``; raises PlaybookError listing every
    problem (file and field) when any is invalid."""
    problems: list[str] = []
    books: list[Playbook] = []
    for directory in (BUILTIN_DIR, *directories):
        directory = directory.resolve()
        if not directory.is_dir():
            problems.append(f"{directory}: playbooks directory does not exist")
            continue
        builtin = directory == BUILTIN_DIR
        for path in sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml")):
            book = _read(path, path.name if builtin else str(path), problems)
            if book is not None:
                books.append(book)
    problems.extend(_check_together(books))
    if problems:
        raise PlaybookError(problems)
    return Playbooks(books)


# The playbooks this process plans with: the composition root sets them at start (with the
# operator's directory); anything else — a test, a bench — gets the built-ins on first use.
_active: Playbooks | None = None


def use_playbooks(playbooks: Playbooks | None) -> None:
    """Plan new runs with these playbooks (None: the built-ins, loaded on next use)."""
    global _active
    _active = playbooks


def active_playbooks() -> Playbooks:
    global _active
    if _active is None:
        _active = load_playbooks()
    return _active
