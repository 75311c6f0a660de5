"""/dashboard (issue #16): loaded in a real headless Chromium (the Debian package), its numbers equal
the ledger's, a screenshot is kept as a test artifact; without the token it shows nothing.
`coo costs` prints the same figures and `coo dashboard-link` the link that opens the page."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.llm import register_provider, unregister_provider
from tests.conftest import REPO, ChatDriver, in_ci
from tests.fakes.scripted_model import ScriptedChatModel

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
CLIENT = "new client: Northwind, contact ops@northwind.example"
ARTIFACTS = Path(os.environ.get("COO_TEST_ARTIFACTS", REPO / "test-artifacts"))


@pytest.fixture
def writer() -> Iterator[ScriptedChatModel]:
    model = ScriptedChatModel(script=[], calls=[])
    register_provider("scripted", lambda name: model)
    yield model
    unregister_provider("scripted")


def _chromium(tmp_path: Path, *args: str) -> str:
    if not CHROMIUM.exists():
        if in_ci():
            pytest.fail("chromium is missing: scripts/services installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (scripts/services installs it)")
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'chromium'}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return done.stdout


def _figures(dom: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([a-z_]+)">([^<]*)<', dom))


def test_the_dashboard_in_chromium_equals_the_ledger(serve, sqlite_url, smtp, writer, clock, coo, tmp_path):
    served = serve(
        database_url=sqlite_url,
        smtp_url=smtp.url,
        from_email="Ana Ruiz <ana@studio.example>",
        model_mid="scripted:gpt-4o",
    )
    chat = ChatDriver(served.runtime)
    chat.say(CLIENT)
    writer.script.append("Hi,\n\nThe files are uploaded.\n\nAna")
    assert "[/approve 1]" in chat.say("email Northwind that the files are uploaded")
    clock.advance(minutes=5)
    assert "Sent e-mail" in chat.say("/approve 1")
    chat.say("invoice Northwind $2,000 for october design work")
    chat.say("/reject 2")
    chat.say("invoice Northwind $500 for hosting")
    smtp.recorder.data_reply = "550 5.1.1 No such mailbox"
    assert "NOT SENT" in chat.say("/approve 3")
    chat.say("invoice Northwind $300 for fonts")  # waits, and breaks the 1 h billing SLA below
    clock.advance(hours=2)
    served.settle()

    link = coo(["dashboard-link"], {"COO_PUBLIC_URL": served.url}).stdout.splitlines()[0]
    assert link.startswith(f"{served.url}/dashboard?token=")
    token = link.split("token=", 1)[1]

    # Nothing for a request without the token, or with a wrong one.
    for path in ("/dashboard", "/dashboard?token=nope"):
        refused = served.http.get(path)
        assert refused.status_code == 403 and "$" not in refused.text and "Northwind" not in refused.text
    assert served.http.get("/dashboard", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    dom = _chromium(tmp_path, "--dump-dom", link)
    shown = _figures(dom)

    store = served.runtime.store
    runs = {r["status"]: r["n"] for r in store.db.fetchall("SELECT status, COUNT(*) AS n FROM runs GROUP BY status")}
    finished = sum(runs.get(s, 0) for s in ("done", "failed", "sent_uncertain", "rejected", "cancelled"))
    cost = store.ledger.model_usage()["cost_usd"]
    assert cost > 0 and runs["done"] >= 2
    assert shown["cost_total"] == f"${cost:.4f}"
    assert shown["tasks_done"] == str(runs["done"])
    assert shown["cost_per_task"] == f"${cost / runs['done']:.4f}"
    assert shown["error_rate"] == f"{(runs.get('failed', 0) + runs.get('sent_uncertain', 0)) / finished:.1%}"
    decided = store.db.fetchall("SELECT asked_at, decided_at FROM approvals WHERE status <> 'pending'")
    assert len(decided) == 3  # 5 minutes, then two decided at once: 100 s on average
    assert shown["decision_time"] == "100 s"
    assert shown["approvals_waiting"] == "1" == str(len(store.runs.pending_approvals()))
    assert shown["sla_breaches"] == "1"
    assert "<svg" in dom and "Model cost per day by tier/agent" in dom  # pygal's charts, rendered
    assert "Northwind" not in dom and "ops@northwind.example" not in dom  # no client content at all

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    shot.unlink(missing_ok=True)
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1800", link)
    assert shot.exists() and shot.stat().st_size > 10_000

    # `coo costs` prints the same figures.
    printed = coo(["costs"], {"COO_DATABASE_URL": sqlite_url}).stdout
    for key in ("cost_total", "cost_per_task", "error_rate", "decision_time", "approvals_waiting", "sla_breaches"):
        assert shown[key] in printed, (key, printed)
    assert "email_responder (ask): 100% — 1 of 1 approved" in printed
    assert "invoicer (ask): 50% — 1 of 2 approved" in printed
