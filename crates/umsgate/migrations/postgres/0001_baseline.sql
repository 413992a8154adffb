-- The shared store of several nodes: the same tables as SQLite's (integers are BIGINT, the
-- width the SQLite columns have), and the job records.
CREATE TABLE IF NOT EXISTS usage (
    instance TEXT NOT NULL,
    "user" TEXT NOT NULL,
    service TEXT NOT NULL,
    day TEXT NOT NULL,
    count BIGINT NOT NULL,
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
    deadline BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt BIGINT NOT NULL,
    last_error TEXT,
    job_id BIGINT,
    job_state TEXT,
    updated BIGINT NOT NULL,
    PRIMARY KEY (instance, fax)
);

CREATE TABLE IF NOT EXISTS print_message (
    message_id TEXT NOT NULL PRIMARY KEY,
    instance TEXT NOT NULL,
    fax TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS print_due ON print_pending (instance, state, next_attempt);

-- Job records (outbound/jobs.rs): written before a job is submitted, read by whichever node
-- picks up its delivery report, removed once the report is mailed.
CREATE TABLE IF NOT EXISTS job_record (
    instance TEXT NOT NULL,
    job_id TEXT NOT NULL,
    record TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (instance, job_id)
);
