#!/usr/bin/env bash
# The message journal's list queries (console /journal, portal /portal/messages) on an
# index of N entries (default 200000) in SQLite, built with umsgate's own migrations.
# Prints the time of each statement as store.rs runs it (parameters written in place).
#
#   bench/journal/list.sh [N]
set -euo pipefail
n=${1:-200000}
here=$(cd "$(dirname "$0")/../.." && pwd)
db=$(mktemp -d)/journal.db
trap 'rm -rf "$(dirname "$db")"' EXIT
cat "$here"/crates/umsgate/migrations/sqlite/0001_baseline.sql \
    "$here"/crates/umsgate/migrations/sqlite/0002_journal_entries.sql | sqlite3 "$db"
sqlite3 "$db" <<SQL
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < $n - 1)
INSERT INTO journal (instance, id, service, calling, called, recipient, received_at, kind, subject, size)
SELECT 'inst' || (i % 2), printf('%016X', i), CASE i % 3 WHEN 0 THEN 'sms' ELSE 'fax' END,
       '+49 30 ' || (1000000 + i), '+49 8142 4799' || (100 + i % 100),
       'user' || (i % 100) || '@example.com',
       strftime('%Y-%m-%dT%H:%M:%SZ', 1764000000 + i, 'unixepoch'),
       CASE i % 4 WHEN 0 THEN 'report' ELSE 'message' END, 'Fax from +49 30 ' || (1000000 + i), 40000
FROM k;
ANALYZE;
SQL
run() { # label, extra conditions, offset
  local where="$2"
  echo "== $1"
  sqlite3 "$db" <<SQL
.timer on
SELECT count(*) FROM (SELECT instance, id, kind, service, calling, called, recipient, received_at, subject, size
  FROM journal WHERE $where ORDER BY received_at DESC, id DESC LIMIT 50 OFFSET $3);
SELECT COUNT(*) FROM journal WHERE $where;
SQL
}
run "newest page, no filter" "1 = 1" 0
run "last page, no filter" "1 = 1" $((n - 50))
run "one user's page (portal)" "instance = 'inst1' AND recipient = 'user7@example.com'" 0
run "reports of one instance" "instance = 'inst0' AND kind = 'report'" 0
run "search a number" "(recipient LIKE '%4799142%' ESCAPE '\\' OR lower(id) LIKE '%4799142%' ESCAPE '\\' OR lower(subject) LIKE '%4799142%' ESCAPE '\\' OR replace(replace(calling, ' ', ''), '-', '') LIKE '%4799142%' ESCAPE '\\' OR replace(replace(called, ' ', ''), '-', '') LIKE '%4799142%' ESCAPE '\\')" 0
