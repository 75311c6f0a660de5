"""Versioned schema migrations, applied on start. The list index + 1 is the version.

Each migration is portable SQL with a few dialect tokens ({pk}, {ts}, {json}, {date},
{bigint}) filled in per database; a migration that must differ per dialect is a dict.
"""

from __future__ import annotations

import logging

from store.db import Database, Tx

log = logging.getLogger(__name__)

_TOKENS = {
    "sqlite": {
        "pk": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "ts": "TEXT",
        "json": "TEXT",
        "date": "TEXT",
        "bigint": "INTEGER",
    },
    "postgres": {
        "pk": "BIGSERIAL PRIMARY KEY",
        "ts": "TIMESTAMPTZ",
        "json": "JSONB",
        "date": "DATE",
        "bigint": "BIGINT",
    },
}

_CORE = """
CREATE TABLE clients (
    id {pk},
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    contact_name TEXT,
    contact_email TEXT,
    preferred_channel TEXT,
    revision_limit INTEGER,
    hourly_rate_cents {bigint},
    billing_day INTEGER,
    currency TEXT NOT NULL DEFAULT 'USD',
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX clients_email ON clients (contact_email);

CREATE TABLE client_facts (
    id {pk},
    client_id INTEGER NOT NULL REFERENCES clients (id),
    fact TEXT NOT NULL,
    field TEXT,
    value TEXT,
    source TEXT,
    created_at {ts} NOT NULL,
    superseded_at {ts}
);
CREATE INDEX client_facts_client ON client_facts (client_id);

CREATE TABLE retainers (
    id {pk},
    client_id INTEGER NOT NULL REFERENCES clients (id),
    monthly_cents {bigint} NOT NULL,
    currency TEXT NOT NULL,
    revision_rounds INTEGER,
    billing_day INTEGER,
    scope TEXT,
    start_date {date},
    status TEXT NOT NULL DEFAULT 'active',
    run_id TEXT,
    created_at {ts} NOT NULL
);

CREATE TABLE deliverables (
    id {pk},
    client_id INTEGER NOT NULL REFERENCES clients (id),
    retainer_id INTEGER REFERENCES retainers (id),
    title TEXT NOT NULL,
    due_date {date},
    status TEXT NOT NULL DEFAULT 'open',
    run_id TEXT,
    created_at {ts} NOT NULL,
    done_at {ts}
);

CREATE TABLE tasks (
    id {pk},
    client_id INTEGER REFERENCES clients (id),
    title TEXT NOT NULL,
    due_date {date},
    status TEXT NOT NULL DEFAULT 'open',
    run_id TEXT,
    created_at {ts} NOT NULL,
    done_at {ts}
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value {bigint} NOT NULL
);
INSERT INTO counters (name, value) VALUES ('invoice', 0);
INSERT INTO counters (name, value) VALUES ('proposal', 0);

CREATE TABLE invoices (
    id {pk},
    seq INTEGER NOT NULL UNIQUE,
    number TEXT NOT NULL UNIQUE,
    client_id INTEGER NOT NULL REFERENCES clients (id),
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    issue_date {date} NOT NULL,
    due_date {date} NOT NULL,
    total_cents {bigint} NOT NULL,
    paid_cents {bigint} NOT NULL DEFAULT 0,
    run_id TEXT,
    created_at {ts} NOT NULL,
    sent_at {ts}
);
CREATE INDEX invoices_client ON invoices (client_id);

CREATE TABLE invoice_lines (
    id {pk},
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit TEXT,
    unit_price_cents {bigint} NOT NULL,
    total_cents {bigint} NOT NULL
);

CREATE TABLE payments (
    id {pk},
    client_id INTEGER REFERENCES clients (id),
    invoice_id INTEGER REFERENCES invoices (id),
    amount_cents {bigint} NOT NULL,
    currency TEXT NOT NULL,
    received_on {date} NOT NULL,
    reference TEXT,
    run_id TEXT,
    created_at {ts} NOT NULL
);

CREATE TABLE artifacts (
    id {pk},
    kind TEXT NOT NULL,
    number TEXT UNIQUE,
    client_id INTEGER REFERENCES clients (id),
    run_id TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    meta {json} NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX artifacts_client ON artifacts (client_id);

CREATE TABLE intents (
    id {pk},
    idempotency_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    intent {json} NOT NULL,
    run_id TEXT,
    created_at {ts} NOT NULL
);

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    intent_id INTEGER REFERENCES intents (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    summary TEXT,
    error TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    finished_at {ts}
);
CREATE INDEX runs_thread ON runs (channel, thread_id);

CREATE TABLE approvals (
    id {pk},
    run_id TEXT NOT NULL REFERENCES runs (id),
    step TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    card {json} NOT NULL,
    draft {json} NOT NULL,
    decided_by TEXT,
    decided_via TEXT,
    decided_at {ts},
    asked_at {ts} NOT NULL,
    reminded_at {ts},
    UNIQUE (run_id, step)
);

CREATE TABLE messages (
    id {pk},
    run_id TEXT,
    channel TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    text TEXT NOT NULL,
    payload {json} NOT NULL,
    dedupe_key TEXT UNIQUE,
    created_at {ts} NOT NULL,
    delivered_at {ts}
);
CREATE INDEX messages_thread ON messages (channel, thread_id, id);

CREATE TABLE clarifications (
    thread_key TEXT PRIMARY KEY,
    intent {json} NOT NULL,
    fields {json} NOT NULL,
    question TEXT NOT NULL,
    source_text TEXT NOT NULL,
    created_at {ts} NOT NULL
);

CREATE TABLE side_effects (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    receipt {json},
    created_at {ts} NOT NULL,
    done_at {ts}
);

CREATE TABLE model_cache (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    output TEXT NOT NULL,
    created_at {ts} NOT NULL
);

CREATE TABLE ledger (
    id {pk},
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload {json} NOT NULL,
    receipt {json},
    dedupe_key TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL
);
CREATE INDEX ledger_run ON ledger (run_id, id);
"""

_LEDGER_GUARD = {
    "postgres": """
CREATE FUNCTION coo_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION coo_ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION coo_ledger_append_only();
""",
    "sqlite": """
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE is not allowed'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: DELETE is not allowed'); END;
""",
}

# Where each of coo's messages was shown in Slack/Telegram (so approval cards can be updated in
# place), and the platform's id of each operator message (so replies can thread under it).
_DELIVERIES = """
CREATE TABLE deliveries (
    id {pk},
    message_id INTEGER NOT NULL REFERENCES messages (id),
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    ref TEXT,
    approval_id INTEGER REFERENCES approvals (id),
    status TEXT NOT NULL,
    error TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (message_id, platform, chat_id)
);
CREATE INDEX deliveries_approval ON deliveries (approval_id, status);

CREATE TABLE inbound_refs (
    event_key TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    ref TEXT NOT NULL,
    created_at {ts} NOT NULL
);
"""

# Semantic memory (store/memory.py): compact items that point at an artifact, fact or invoice,
# their exact tokens (names, invoice numbers, e-mails) and full-text index. The vector table is
# created by MemoryStore.ensure() because its dimension belongs to the configured embedder.
_MEMORY_COMMON = """
CREATE TABLE memory_items (
    id {pk},
    source_kind TEXT NOT NULL,
    source_id {bigint} NOT NULL,
    kind TEXT NOT NULL,
    client_id INTEGER,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    meta {json} NOT NULL,
    fingerprint TEXT,
    created_at {ts} NOT NULL,
    indexed_at {ts} NOT NULL,
    UNIQUE (source_kind, source_id)
);
CREATE INDEX memory_items_client ON memory_items (client_id);
CREATE TABLE memory_tokens (
    item_id {bigint} NOT NULL REFERENCES memory_items (id) ON DELETE CASCADE,
    token TEXT NOT NULL
);
CREATE INDEX memory_tokens_token ON memory_tokens (token, item_id);
CREATE INDEX memory_tokens_item ON memory_tokens (item_id);
CREATE TABLE memory_config (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_MEMORY = {
    "sqlite": _MEMORY_COMMON.format(**_TOKENS["sqlite"])
    + """
CREATE VIRTUAL TABLE memory_fts USING fts5(title, text, tokenize = 'porter unicode61 remove_diacritics 2');
""",
    "postgres": "CREATE EXTENSION IF NOT EXISTS vector;\n"
    + _MEMORY_COMMON.format(**_TOKENS["postgres"])
    + """
ALTER TABLE memory_items ADD COLUMN tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || text)) STORED;
CREATE INDEX memory_items_tsv ON memory_items USING gin (tsv);
""",
}

# Rows of bank/provider CSV exports the reconciler has seen (agents/reconciler.py), keyed by a
# fingerprint of the row's content, so importing a file (or an overlapping export) again never
# records a payment twice; "asked" rows were put to the operator, "matched" ones were recorded.
_PAYMENT_IMPORTS = """
CREATE TABLE payment_imports (
    id {pk},
    fingerprint TEXT NOT NULL UNIQUE,
    file_hash TEXT NOT NULL,
    filename TEXT NOT NULL,
    line INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    invoice_numbers TEXT,
    amount_cents {bigint} NOT NULL,
    currency TEXT NOT NULL,
    received_on {date} NOT NULL,
    run_id TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
"""

# What `coo memory prune` removed as a duplicate: the indexing sweep skips these sources.
_MEMORY_PRUNED = """
CREATE TABLE memory_pruned (
    source_kind TEXT NOT NULL,
    source_id {bigint} NOT NULL,
    reason TEXT NOT NULL,
    pruned_at {ts} NOT NULL,
    PRIMARY KEY (source_kind, source_id)
);
"""

# Per-agent autonomy the operator sets with /autonomy (store/policies.py), and one claim per
# recurring job and period (store/recurring.py): the retainer's invoice for 2026-11, its
# report for 2026-W48. The claim's key is the idempotency key of the intent the job submits.
_RECURRING = """
CREATE TABLE agent_policies (
    agent TEXT PRIMARY KEY,
    autonomy TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_via TEXT NOT NULL,
    set_at {ts} NOT NULL
);

CREATE TABLE recurring_work (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    retainer_id INTEGER NOT NULL REFERENCES retainers (id),
    period TEXT NOT NULL,
    run_id TEXT,
    created_at {ts} NOT NULL
);
CREATE INDEX recurring_work_retainer ON recurring_work (retainer_id, kind, period);
"""

# Revision rounds clients asked for (store/revisions.py), counted per deliverable.
_REVISIONS = """
CREATE TABLE revisions (
    id {pk},
    client_id INTEGER NOT NULL REFERENCES clients (id),
    deliverable TEXT NOT NULL,
    round INTEGER NOT NULL,
    note TEXT,
    out_of_scope INTEGER NOT NULL,
    run_id TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL
);
CREATE INDEX revisions_client ON revisions (client_id, deliverable);
"""

# The playbook version each run was planned with (graphs/playbooks/). Runs planned before
# playbooks were versioned ran what became each playbook's v1 — except retainer runs planned
# with schedule_recurring (their ledger says so), which ran v2. Queued runs are not planned yet
# and get the latest version when they are.
_RUN_PLAYBOOKS = """
ALTER TABLE runs ADD COLUMN playbook TEXT;
ALTER TABLE runs ADD COLUMN playbook_version INTEGER;
UPDATE runs SET playbook = CASE kind
    WHEN 'retainer_signup' THEN 'retainer' WHEN 'new_client' THEN 'new_client'
    WHEN 'draft_proposal' THEN 'proposal' WHEN 'create_invoice' THEN 'invoice'
    WHEN 'record_payment' THEN 'payment' WHEN 'add_deliverable' THEN 'deliverable'
    WHEN 'add_task' THEN 'task' WHEN 'remember_fact' THEN 'fact' WHEN 'send_email' THEN 'email'
    WHEN 'status_query' THEN 'status' WHEN 'recall' THEN 'recall' WHEN 'client_profile' THEN 'client_profile'
    WHEN 'update_terms' THEN 'update_terms' WHEN 'revision_request' THEN 'revision'
    WHEN 'deliverable_done' THEN 'deliverable_done' WHEN 'weekly_report' THEN 'weekly_report'
    END
WHERE status <> 'queued';
UPDATE runs SET playbook_version = CASE WHEN playbook = 'retainer' AND EXISTS (
    SELECT 1 FROM ledger WHERE ledger.run_id = runs.id AND ledger.kind = 'planned'
    AND CAST(ledger.payload AS TEXT) LIKE '%schedule_recurring%') THEN 2 ELSE 1 END
WHERE playbook IS NOT NULL;
CREATE INDEX runs_playbook ON runs (playbook, playbook_version);
"""

# Every input from every channel, saved with its channel's dedupe key before anything is
# queued or parsed (store/inbox.py); a queue only wakes a worker to process a saved row.
_INBOX = """
CREATE TABLE inbox (
    id {pk},
    dedupe TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    payload {json} NOT NULL,
    status TEXT NOT NULL,
    created_at {ts} NOT NULL,
    queued_at {ts},
    done_at {ts},
    error TEXT
);
CREATE INDEX inbox_unqueued ON inbox (status, id);
"""

# A send the mail server did not take stays on record as 'failed' (not deleted), with how many
# attempts were made, why the last failed and when the next one is due: "not sent" is visible,
# retried with backoff, and resendable (graphs/sending.py).
_SEND_FAILURES = """
ALTER TABLE side_effects ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE side_effects ADD COLUMN error TEXT;
ALTER TABLE side_effects ADD COLUMN retry_at {ts};
CREATE INDEX side_effects_failed ON side_effects (status, retry_at);
"""

# A retainer can end on a date (cancelled, or ending after a month) and be paused between two
# dates; the billing tick skips billing dates outside them. A client's credit (money paid that
# no invoice took) is held for the next draft invoice in its currency and applied when that
# invoice is sent (store/credits.py): one row per invoice.
_RETAINER_STATE_AND_CREDITS = """
ALTER TABLE retainers ADD COLUMN ends_on {date};
ALTER TABLE retainers ADD COLUMN paused_from {date};
ALTER TABLE retainers ADD COLUMN paused_until {date};

CREATE TABLE credit_applications (
    id {pk},
    client_id INTEGER NOT NULL REFERENCES clients (id),
    invoice_id INTEGER NOT NULL UNIQUE REFERENCES invoices (id),
    currency TEXT NOT NULL,
    amount_cents {bigint} NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    run_id TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX credit_applications_client ON credit_applications (client_id, currency, status);
"""

# Invoices after sending (store/credit_notes.py): credit notes that void a sent invoice (their own
# gapless series, CN-0001 …) and the payment reminders the daily tick has claimed, once each.
_CREDIT_NOTES_AND_REMINDERS = """
CREATE TABLE credit_notes (
    id {pk},
    seq INTEGER NOT NULL UNIQUE,
    number TEXT NOT NULL UNIQUE,
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    client_id INTEGER NOT NULL REFERENCES clients (id),
    currency TEXT NOT NULL,
    amount_cents {bigint} NOT NULL,
    credited_cents {bigint} NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    run_id TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL,
    issued_at {ts}
);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id, status);

CREATE TABLE invoice_reminders (
    key TEXT PRIMARY KEY,
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    stage INTEGER NOT NULL,
    run_id TEXT,
    created_at {ts} NOT NULL
);
CREATE INDEX invoice_reminders_invoice ON invoice_reminders (invoice_id, stage);
"""

# Autonomy per agent, kind of work and (optionally) client, with its limits; and the policy
# settings the operator changes from chat (spend caps, SLAs, prices), each a key and a value.
_POLICY = """
CREATE TABLE autonomy_rules (
    agent TEXT NOT NULL,
    kind TEXT NOT NULL,
    client_id INTEGER NOT NULL DEFAULT 0,
    level TEXT NOT NULL,
    max_cents {bigint},
    currency TEXT,
    known_only INTEGER NOT NULL DEFAULT 1,
    set_by TEXT NOT NULL,
    set_via TEXT NOT NULL,
    set_at {ts} NOT NULL,
    PRIMARY KEY (agent, kind, client_id)
);

CREATE TABLE policy_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at {ts} NOT NULL
);
"""

# Invoices a business can send (store/invoice_profile.py, store/tax.py): the seller's own details
# (one row per field), each client's billing details, a tax rate per invoice line, and the tax of
# an invoice (its total is then the gross: lines' net plus tax, which the books check verifies).
_INVOICE_DOCUMENTS = """
CREATE TABLE seller_profile (
    field TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at {ts} NOT NULL
);

CREATE TABLE client_billing (
    client_id INTEGER NOT NULL REFERENCES clients (id),
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at {ts} NOT NULL,
    PRIMARY KEY (client_id, field)
);

ALTER TABLE invoice_lines ADD COLUMN tax_rate TEXT;
ALTER TABLE invoices ADD COLUMN tax_cents {bigint} NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN tax_treatment TEXT;
"""

# Invoice number series (store/invoice_numbers.py): the counter an invoice was numbered from
# ("invoice", or "invoice:ACME-{year}-{seq:04}:2026") and its number within that series; seq stays
# the internal, unique running number. Invoices before formats existed are in the "invoice" series.
_INVOICE_SERIES = """
ALTER TABLE invoices ADD COLUMN series TEXT NOT NULL DEFAULT 'invoice';
ALTER TABLE invoices ADD COLUMN series_seq INTEGER;
UPDATE invoices SET series_seq = seq;
"""

# Bounded work per request (issue 15): an index for every look-up a request makes (the guards
# against double-created rows look up run_id; status questions read open invoices by due date),
# and memory_changes, the queue of sources the memory must (re)index, filled by triggers when a
# source is written, so the indexing sweep reads what changed instead of everything. The queue
# starts with every existing source and item: the first sweep after upgrading checks them once.
_SCALE_INDEXES = """
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, position);
CREATE INDEX invoices_open ON invoices (status, due_date);
CREATE INDEX invoices_run ON invoices (run_id);
CREATE INDEX payments_invoice ON payments (invoice_id);
CREATE INDEX payments_client ON payments (client_id);
CREATE INDEX payments_run ON payments (run_id);
CREATE INDEX payments_received ON payments (received_on);
CREATE INDEX runs_created ON runs (created_at);
CREATE INDEX ledger_kind_created ON ledger (kind, created_at);
CREATE INDEX approvals_status ON approvals (status, decided_at);
CREATE INDEX artifacts_run ON artifacts (run_id, kind);
CREATE INDEX artifacts_client_id ON artifacts (client_id, id);
CREATE INDEX deliverables_open ON deliverables (status, client_id);
CREATE INDEX deliverables_run ON deliverables (run_id);
CREATE INDEX tasks_open ON tasks (status);
CREATE INDEX tasks_run ON tasks (run_id);
CREATE INDEX retainers_client ON retainers (client_id);
CREATE INDEX retainers_run ON retainers (run_id);
CREATE INDEX intents_run ON intents (run_id);
CREATE INDEX credit_notes_run ON credit_notes (run_id);
CREATE INDEX revisions_run ON revisions (run_id);
CREATE INDEX side_effects_run ON side_effects (run_id, status);
CREATE TABLE memory_changes (
    id {pk},
    source_kind TEXT NOT NULL,
    source_id {bigint} NOT NULL
);
INSERT INTO memory_changes (source_kind, source_id) SELECT 'artifact', id FROM artifacts ORDER BY id;
INSERT INTO memory_changes (source_kind, source_id) SELECT 'fact', id FROM client_facts ORDER BY id;
INSERT INTO memory_changes (source_kind, source_id) SELECT 'invoice', id FROM invoices ORDER BY id;
INSERT INTO memory_changes (source_kind, source_id) SELECT 'item', id FROM memory_items ORDER BY id;
"""

_SCALE_SQLITE = """
CREATE INDEX approvals_client ON approvals (json_extract(card, '$.client_id'), decided_at);
CREATE TRIGGER memory_change_artifact_new AFTER INSERT ON artifacts BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('artifact', NEW.id);
END;
CREATE TRIGGER memory_change_artifact_edit AFTER UPDATE OF title, body ON artifacts BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('artifact', NEW.id);
END;
CREATE TRIGGER memory_change_fact_new AFTER INSERT ON client_facts BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('fact', NEW.id);
END;
CREATE TRIGGER memory_change_invoice_new AFTER INSERT ON invoices BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('invoice', NEW.id);
END;
CREATE TRIGGER memory_change_invoice_edit AFTER UPDATE OF total_cents, due_date ON invoices BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('invoice', NEW.id);
END;
CREATE TRIGGER memory_change_line_new AFTER INSERT ON invoice_lines BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('invoice', NEW.invoice_id);
END;
CREATE TRIGGER memory_change_line_edit AFTER UPDATE ON invoice_lines BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('invoice', NEW.invoice_id);
END;
CREATE TRIGGER memory_change_item_new AFTER INSERT ON memory_items BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('item', NEW.id);
END;
"""

_SCALE_POSTGRES = """
CREATE INDEX runs_id_prefix ON runs (id text_pattern_ops);
CREATE INDEX approvals_client ON approvals (((card->>'client_id')), decided_at);
CREATE FUNCTION coo_memory_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES (TG_ARGV[0], NEW.id);
    RETURN NULL;
END $$;
CREATE FUNCTION coo_memory_change_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_changes (source_kind, source_id) VALUES ('invoice', NEW.invoice_id);
    RETURN NULL;
END $$;
CREATE TRIGGER memory_change_artifact_new AFTER INSERT ON artifacts
    FOR EACH ROW EXECUTE FUNCTION coo_memory_change('artifact');
CREATE TRIGGER memory_change_artifact_edit AFTER UPDATE OF title, body ON artifacts
    FOR EACH ROW EXECUTE FUNCTION coo_memory_change('artifact');
CREATE TRIGGER memory_change_fact_new AFTER INSERT ON client_facts
    FOR EACH ROW EXECUTE FUNCTION coo_memory_change('fact');
CREATE TRIGGER memory_change_invoice_new AFTER INSERT ON invoices
    FOR EACH ROW EXECUTE FUNCTION coo_memory_change('invoice');
CREATE TRIGGER memory_change_invoice_edit AFTER UPDATE OF total_cents, due_date ON invoices
    FOR EACH ROW EXECUTE FUNCTION coo_memory_change('invoice');
CREATE TRIGGER memory_change_line AFTER INSERT OR UPDATE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION coo_memory_change_line();
CREATE TRIGGER memory_change_item_new AFTER INSERT ON memory_items
    FOR EACH ROW EXECUTE FUNCTION coo_memory_change('item');
"""

# The recall audit's MinHash sketch and shingle hashes of each memory text
# (store/memory_sketch.py), made once per text (``digest``) so a weekly audit does not shingle
# the whole memory again.
_MEMORY_SKETCHES = """
CREATE TABLE memory_sketches (
    item_id {bigint} PRIMARY KEY REFERENCES memory_items (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    sketch {blob} NOT NULL,
    shingles {blob} NOT NULL
);
"""

# A counter bumped whenever a client's name can have changed (added, renamed, removed), by
# the database itself, so every process sees another's change: the parser's list of client
# names (ClientStore.names) is read again only when it moved, not once per message.
_CLIENT_NAMES_VERSION = {
    "sqlite": """
CREATE TABLE client_names_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT INTO client_names_version (id, version) VALUES (1, 0);
CREATE TRIGGER client_names_new AFTER INSERT ON clients BEGIN
    UPDATE client_names_version SET version = version + 1;
END;
CREATE TRIGGER client_names_edit AFTER UPDATE OF name ON clients BEGIN
    UPDATE client_names_version SET version = version + 1;
END;
CREATE TRIGGER client_names_gone AFTER DELETE ON clients BEGIN
    UPDATE client_names_version SET version = version + 1;
END;
""",
    "postgres": """
CREATE TABLE client_names_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO client_names_version (id, version) VALUES (1, 0);
CREATE FUNCTION coo_client_names_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE client_names_version SET version = version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER client_names_changed AFTER INSERT OR DELETE OR UPDATE OF name ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION coo_client_names_changed();
""",
}

# Each client row carries the names version its name came with, and the version row counts the
# renames and removals: while none happened since the names were read, only the names with a
# later version are read (a message after a new client reads one name, not every client's).
# On PostgreSQL the version row is locked by the transaction that bumps it until it commits, so
# versions are given in commit order: every name up to a version read is committed and visible.
_CLIENT_NAMES_INCREMENTAL = {
    "sqlite": """
ALTER TABLE clients ADD COLUMN names_version INTEGER;
ALTER TABLE client_names_version ADD COLUMN removals INTEGER NOT NULL DEFAULT 0;
CREATE INDEX clients_names_version ON clients (names_version);
DROP TRIGGER client_names_new;
DROP TRIGGER client_names_edit;
DROP TRIGGER client_names_gone;
CREATE TRIGGER client_names_new AFTER INSERT ON clients BEGIN
    UPDATE client_names_version SET version = version + 1;
    UPDATE clients SET names_version = (SELECT version FROM client_names_version WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER client_names_edit AFTER UPDATE OF name ON clients BEGIN
    UPDATE client_names_version SET version = version + 1, removals = removals + 1;
END;
CREATE TRIGGER client_names_gone AFTER DELETE ON clients BEGIN
    UPDATE client_names_version SET version = version + 1, removals = removals + 1;
END;
""",
    "postgres": """
ALTER TABLE clients ADD COLUMN names_version BIGINT;
ALTER TABLE client_names_version ADD COLUMN removals BIGINT NOT NULL DEFAULT 0;
CREATE INDEX clients_names_version ON clients (names_version);
DROP TRIGGER client_names_changed ON clients;
CREATE FUNCTION coo_client_name_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE client_names_version SET version = version + 1 WHERE id = 1 RETURNING version INTO NEW.names_version;
    RETURN NEW;
END $$;
CREATE TRIGGER client_name_added BEFORE INSERT ON clients
    FOR EACH ROW EXECUTE FUNCTION coo_client_name_added();
CREATE FUNCTION coo_client_names_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE client_names_version SET version = version + 1, removals = removals + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER client_names_removed AFTER DELETE OR UPDATE OF name ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION coo_client_names_removed();
""",
}

_SCALE = {
    "sqlite": _SCALE_INDEXES.format(**_TOKENS["sqlite"]) + _SCALE_SQLITE,
    "postgres": _SCALE_INDEXES.format(**_TOKENS["postgres"]) + _SCALE_POSTGRES,
}


MIGRATIONS: list[str | dict[str, str]] = [
    _CORE,
    _LEDGER_GUARD,
    _DELIVERIES,
    _MEMORY,
    _PAYMENT_IMPORTS,
    _MEMORY_PRUNED,
    _RECURRING,
    _REVISIONS,
    _RUN_PLAYBOOKS,
    _INBOX,
    _SEND_FAILURES,
    _RETAINER_STATE_AND_CREDITS,
    _CREDIT_NOTES_AND_REMINDERS,
    _POLICY,
    _INVOICE_DOCUMENTS,
    _INVOICE_SERIES,
    _SCALE,
    {
        "sqlite": _MEMORY_SKETCHES.format(bigint="INTEGER", blob="BLOB"),
        "postgres": _MEMORY_SKETCHES.format(bigint="BIGINT", blob="BYTEA"),
    },
    _CLIENT_NAMES_VERSION,
    _CLIENT_NAMES_INCREMENTAL,
]


def _statements(script: str) -> list[str]:
    """Split a script on semicolons that end a line, keeping $$ function bodies whole."""
    statements, current, in_body = [], [], False
    for line in script.splitlines():
        if line.count("$$") % 2 == 1:
            in_body = not in_body
        current.append(line)
        if not in_body and line.rstrip().endswith(";"):
            sql = "\n".join(current).strip()
            if sql.rstrip(";").strip():
                statements.append(sql)
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def _sqlite_trigger_safe(statements: list[str]) -> list[str]:
    """SQLite trigger bodies contain ';' — rejoin lines between BEGIN and END."""
    out: list[str] = []
    buffer: list[str] = []
    for stmt in statements:
        if buffer or ("CREATE TRIGGER" in stmt and "END;" not in stmt):
            buffer.append(stmt)
            if stmt.rstrip().endswith("END;"):
                out.append("\n".join(buffer))
                buffer = []
            continue
        out.append(stmt)
    return out


def migrate(db: Database) -> int:
    """Apply every migration this database has not seen; returns the schema version."""
    with db.transaction() as tx:
        if db.dialect == "postgres":
            # Web and worker may start together: one applies, the other waits and sees it done.
            tx.execute("SELECT pg_advisory_xact_lock(7100221)")
        if not _has_migrations_table(tx, db.dialect):
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        current = tx.scalar("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations") or 0
        for index, migration in enumerate(MIGRATIONS[current:], start=current + 1):
            _apply(tx, db.dialect, migration)
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, CURRENT_TIMESTAMP)",
                (index,),
            )
            log.info("applied migration %d", index)
        return len(MIGRATIONS)


def _has_migrations_table(tx: Tx, dialect: str) -> bool:
    """Looked up rather than CREATE … IF NOT EXISTS: an application role without CREATE on the
    schema (README: Database roles) must start against an up-to-date database."""
    if dialect == "postgres":
        return bool(tx.scalar("SELECT to_regclass('schema_migrations') IS NOT NULL AS present"))
    return bool(
        tx.scalar("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    )


def _apply(tx: Tx, dialect: str, migration: str | dict[str, str]) -> None:
    script = migration[dialect] if isinstance(migration, dict) else migration
    script = script.format(**_TOKENS[dialect]) if isinstance(migration, str) else script
    statements = _statements(script)
    if dialect == "sqlite":
        statements = _sqlite_trigger_safe(statements)
    for stmt in statements:
        tx.execute(stmt)
