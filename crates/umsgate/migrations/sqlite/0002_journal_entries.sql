-- The journal keeps delivery reports beside received messages (store = "journal"): each
-- entry says what it is, and carries the subject and size its list shows. Rows of earlier
-- releases are received messages.
ALTER TABLE journal ADD COLUMN kind TEXT NOT NULL DEFAULT 'message';
ALTER TABLE journal ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE journal ADD COLUMN size INTEGER NOT NULL DEFAULT 0;

-- Recipients in lower case: the portal finds one user's entries through the index.
UPDATE journal SET recipient = lower(recipient);

-- The console lists newest first; the portal lists one recipient's entries.
CREATE INDEX IF NOT EXISTS journal_newest ON journal (received_at, id);
CREATE INDEX IF NOT EXISTS journal_recipient ON journal (instance, recipient, received_at);
