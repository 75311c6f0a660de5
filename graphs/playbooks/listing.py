"""`coo playbooks`: every playbook version, its steps, its runs and its migration note."""

from __future__ import annotations

from graphs.playbooks import Playbook, Playbooks
from store.models import RunStatus

Counts = dict[tuple[str, int], dict[str, int]]  # (playbook, version) → status → runs

_IN_PROGRESS: tuple[RunStatus, ...] = ("queued", "running", "resuming")


def _runs(by_status: dict[str, int]) -> str:
    """ "runs: 5 total · 1 waiting · 3 done", then any other status that has runs."""
    total = sum(by_status.values())
    parts = [f"{total} total", f"{by_status.get('waiting_approval', 0)} waiting", f"{by_status.get('done', 0)} done"]
    in_progress = sum(by_status.get(s, 0) for s in _IN_PROGRESS)
    if in_progress:
        parts.append(f"{in_progress} in progress")
    parts += [
        f"{n} {status}"
        for status, n in sorted(by_status.items())
        if n and status not in ("waiting_approval", "done", *_IN_PROGRESS)
    ]
    return "runs: " + " · ".join(parts)


def _version(book: Playbook, latest: bool, counts: Counts) -> list[str]:
    tag = " (latest: new runs)" if latest else ""
    lines = [
        f"  v{book.version}{tag} · lead {book.lead} (queue {book.agent.queue}) · from {book.label}",
        f"      steps: {' → '.join(book.steps)}",
        f"      {_runs(counts.get((book.name, book.version), {}))}",
    ]
    if book.notes:
        lines.append(f"      notes: {book.notes}")
    if book.migration:
        lines.append(f"      migration from v{book.version - 1}: {book.migration}")
    return lines


def render_playbooks(playbooks: Playbooks, counts: Counts) -> str:
    """The listing: playbooks by name, newest version first, then runs the listing can't place."""
    books = playbooks.all()
    names = sorted({b.name for b in books})
    lines = [
        f"{len(names)} playbooks, {len(books)} versions. New runs follow the latest version; a run "
        "keeps the version it was planned with."
    ]
    for name in names:
        versions = sorted((b for b in books if b.name == name), key=lambda b: -b.version)
        lines += ["", f"{name} — started by {versions[0].trigger} intents: {versions[0].description}"]
        for book in versions:
            lines += _version(book, playbooks.is_latest(book), counts)
    unplanned = counts.get(("", 0))
    if unplanned:
        lines += [
            "",
            f"Not planned yet: {_runs(unplanned).removeprefix('runs: ')}; queued runs will follow the latest version.",
        ]
    unknown = sorted(k for k in counts if k != ("", 0) and playbooks.get(*k) is None)
    for name, version in unknown:
        # Their steps are in their checkpoints, so they still finish; the file is just gone.
        lines += [
            "",
            f"{name} v{version} is not loaded any more ({_runs(counts[(name, version)])}); "
            "its unfinished runs still finish their own steps.",
        ]
    return "\n".join(lines)
