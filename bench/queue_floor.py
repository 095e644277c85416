#!/usr/bin/env python3
"""The delivery queue's SQL alone on SQLite: how fast can the worker's
database rounds go with nothing else on the machine?

Builds a database from `migrations/sqlite/*.sql` in a temp directory, queues
N deliveries (one message, rule and channel each, like the pipeline bench) and
then runs the worker's round in a loop with Python's sqlite3 module: one
`BEGIN IMMEDIATE` transaction that inserts the attempts of the previous batch,
moves those deliveries to `sent`, claims the next batch (the same UPDATE ...
RETURNING the worker uses), loads the claimed messages, and commits (WAL,
`synchronous = FULL`, as the server runs). No sqlx, no plugin, no HTTP:
this is a ceiling for the worker on this machine, not a figure it can reach.

    python3 bench/queue_floor.py                 # 10,000 deliveries, batches of 16 and 64
    python3 bench/queue_floor.py 20000 16 32 128 # N, then batch sizes
"""

import glob
import os
import sqlite3
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def new_id():
    # Time-ordered like the server's UUIDv7 ids (uuid7 is Python 3.14+).
    return f"{time.time_ns() // 1_000_000:012x}" + uuid.uuid4().hex[12:]


def filler(db, table, given):
    """A row for `table`: the given columns, and a dummy value of the right
    type for every other NOT NULL column without a default."""
    row = dict(given)
    for _, name, kind, notnull, default, _ in db.execute(f"PRAGMA table_info({table})"):
        if name in row or not notnull or default is not None:
            continue
        row[name] = 0 if "INT" in kind.upper() else ""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def build(path, count):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA foreign_keys = ON")
    for migration in sorted(glob.glob(os.path.join(ROOT, "migrations/sqlite/*.sql"))):
        with open(migration) as sql:
            db.executescript(sql.read())
    now = int(time.time() * 1000)
    db.execute("BEGIN")
    filler(db, "users", {"id": "u", "email": "bench@example.com"})
    filler(db, "ingest_endpoints", {"id": "e", "user_id": "u"})
    filler(db, "channels", {"id": "c", "user_id": "u", "plugin": "bark", "config": "x" * 200})
    filler(db, "rules", {"id": "r", "user_id": "u", "channel_id": "c", "payload_template": "{}"})
    for _ in range(count):
        message = new_id()
        filler(db, "messages", {
            "id": message, "user_id": "u", "endpoint_id": "e", "received_at": now,
            "title": "Disk usage", "body": "disk 95% full on /volume1", "priority": 4,
            "tags": '["nas"]', "extras": "{}", "content_type": "application/json",
            "headers": '{"user-agent":"curl/8"}', "query": "{}",
        })
        filler(db, "deliveries", {
            "id": new_id(), "user_id": "u", "message_id": message, "rule_id": "r",
            "channel_id": "c", "status": "queued", "attempt_count": 0,
            "next_attempt_at": now, "created_at": now, "updated_at": now,
        })
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


FINISH = """WITH outcome (id, status, attempt_count, next_attempt_at, sent_at, last_error) AS (VALUES {rows})
UPDATE deliveries SET status = outcome.status, attempt_count = outcome.attempt_count,
       next_attempt_at = outcome.next_attempt_at, sent_at = outcome.sent_at, last_error = outcome.last_error,
       lease_expires_at = NULL, leased_by = NULL, updated_at = ?
FROM outcome WHERE deliveries.id = outcome.id AND deliveries.leased_by = ?
RETURNING deliveries.id"""

CLAIM = """UPDATE deliveries SET status = 'sending', leased_by = ?, lease_expires_at = ?, updated_at = ?
WHERE id IN (SELECT id FROM deliveries WHERE status IN ('queued', 'retry') AND next_attempt_at <= ?
             ORDER BY next_attempt_at LIMIT ?)
RETURNING id, user_id, message_id, rule_id, channel_id, attempt_count"""


def drain(path, count, batch):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA wal_autocheckpoint = 0")  # the server checkpoints in the background
    db.execute("PRAGMA cache_size = -32768")
    previous, rounds, done = [], 0, 0
    started = time.perf_counter()
    while True:
        now = int(time.time() * 1000)
        db.execute("BEGIN IMMEDIATE")
        if previous:
            db.executemany(
                "INSERT INTO delivery_attempts (id, delivery_id, attempt_no, started_at, duration_ms, outcome,"
                " http_status, error, response_snippet, response_json) VALUES (?, ?, 1, ?, 1, 'sent', 200, NULL, ?, ?)",
                [(new_id(), d, now, '{"code":200}', '{"code":200}') for d in previous],
            )
            rows = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(previous))
            args = [v for d in previous for v in (d, "sent", 1, now, now, None)]
            done += len(db.execute(FINISH.format(rows=rows), args + [now, "w"]).fetchall())
        claimed = db.execute(CLAIM, ("w", now + 60_000, now, now, batch)).fetchall()
        if claimed:
            marks = ", ".join("?" * len(claimed))
            db.execute(f"SELECT * FROM messages WHERE id IN ({marks})", [c[2] for c in claimed]).fetchall()
            db.execute("SELECT * FROM rules WHERE id = 'r'").fetchall()
            db.execute("SELECT * FROM channels WHERE id = 'c'").fetchall()
        db.execute("COMMIT")
        rounds += 1
        if not claimed and not previous:
            break
        previous = [c[0] for c in claimed]
        if rounds % 50 == 0:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    elapsed = time.perf_counter() - started
    cpu = time.process_time()
    db.close()
    assert done == count, f"{done} of {count} recorded"
    return count / elapsed, elapsed / rounds, cpu


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    batches = [int(b) for b in sys.argv[2:]] or [16, 64]
    print(f"SQLite {sqlite3.sqlite_version}, {count} deliveries, WAL, synchronous=FULL")
    for batch in batches:
        with tempfile.TemporaryDirectory() as temp:
            path = os.path.join(temp, "queue.db")
            build(path, count)
            cpu_before = time.process_time()
            rate, per_round, cpu_after = drain(path, count, batch)
            cpu_us = (cpu_after - cpu_before) * 1e6 / count
            print(f"batch {batch:4d}: {rate:8.0f} deliveries/s, {per_round * 1e3:6.2f} ms per round, "
                  f"{cpu_us:5.0f} us CPU per delivery")


if __name__ == "__main__":
    main()
