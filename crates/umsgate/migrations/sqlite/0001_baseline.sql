-- The tables of the first releases. Idempotent: a database made by one of them already has
-- them, and this migration only records that it is at version 1.
CREATE TABLE IF NOT EXISTS usage (
    instance TEXT NOT NULL,
    "user" TEXT NOT NULL,
    service TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (instance, "user", service, day)
);

CREATE TABLE IF NOT EXISTS journal (
    instance TEXT NOT NULL,
    id TEXT NOT NULL,
    service TEXT NOT NULL,
    calling TEXT NOT NULL,
    called TEXT NOT NULL,
    recipient TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (instance, id)
);

CREATE TABLE IF NOT EXISTS print_pending (
    instance TEXT NOT NULL,
    fax TEXT NOT NULL,
    rule TEXT NOT NULL,
    printer TEXT NOT NULL,
    calling TEXT NOT NULL,
    called TEXT NOT NULL,
    received_at TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    last_error TEXT,
    job_id INTEGER,
    job_state TEXT,
    updated INTEGER NOT NULL,
    PRIMARY KEY (instance, fax)
);

CREATE TABLE IF NOT EXISTS print_message (
    message_id TEXT NOT NULL PRIMARY KEY,
    instance TEXT NOT NULL,
    fax TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS print_due ON print_pending (instance, state, next_attempt);
