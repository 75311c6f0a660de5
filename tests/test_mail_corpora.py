"""Every e-mail corpus we have, through the intake as the operator would forward it, with the three
counts issue #13 asks for: reply drafts proposed for bulk mail, links made on a display name
alone, and failures not reported (each goal 0).

Corpora: CPython's e-mail test data (../shared/corpora/email/cpython) and the SpamAssassin
sample (tests/data/spamassassin: its spam is bulk mail by definition). Clients are set up so
that some corpus senders are clients by address, and others only share a client contact's name.
"""

from __future__ import annotations

from pathlib import Path

from tests.test_email_intake import ingest

SPAMASSASSIN = Path(__file__).parent / "data" / "spamassassin"
CLIENTS = [
    "new client: Python Labs, contact Barry Warsaw barry@python.org",
    "new client: Dingus Lovers, contact bbb@ddd.com",
    # Same names as corpus senders, other addresses: a name alone must never link.
    "new client: Bellcore Archive, contact Nathaniel Borenstein nsb@archive.example",
    "new client: Otto Partners, contact Tameka Otto tameka@otto-partners.example",
]


def test_every_corpus_counts_zero_bulk_drafts_zero_name_links_zero_silent_failures(chat, smtp, corpus):
    for line in CLIENTS:
        chat.say(line)
    mails = [
        *(("cpython", p) for p in sorted(corpus("email/cpython").iterdir())),
        *(("spam", p) for p in sorted((SPAMASSASSIN / "spam").iterdir())),
        *(("ham", p) for p in sorted((SPAMASSASSIN / "ham").iterdir())),
    ]
    counts = {"messages": 0, "bulk drafts": 0, "name-only links": 0, "unreported failures": 0}
    filed_bulk = linked = 0
    for n, (source, path) in enumerate(mails):
        counts["messages"] += 1
        result, shown = ingest(chat, path.read_bytes(), event_id=f"corpus-{n}")
        bulk = shown.startswith("coo> Filed without a reply") or source == "spam"
        filed_bulk += shown.startswith("coo> Filed without a reply")
        if bulk and result.proposed == "send_email":
            counts["bulk drafts"] += 1
        if result.client_id is not None:
            linked += 1
            if result.linked_by not in ("address", "thread", "domain"):
                counts["name-only links"] += 1
        told = result.artifact_id is not None and shown.startswith("coo> ")
        if not told or (result.problems and "Couldn't read everything" not in shown):
            counts["unreported failures"] += 1
    print(f"e-mail corpora: {counts}; filed as bulk {filed_bulk}, linked {linked}")
    assert counts == {"messages": len(mails), "bulk drafts": 0, "name-only links": 0, "unreported failures": 0}
    assert linked >= 5 and filed_bulk >= 10  # both outcomes exercised
    chat.runtime.queue.wait_idle()
    assert smtp.messages == []  # and not one e-mail left without approval
