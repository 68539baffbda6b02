"""What the example biller remembers, in a small SQLite file: the orders it
sent to the bank, the results that came back, and the bank's notifications."""
from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, service_key TEXT NOT NULL, reference TEXT NOT NULL,
    concept TEXT NOT NULL, amount TEXT NOT NULL, email TEXT NOT NULL, created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'enviado', folio TEXT, paid_at TEXT);
CREATE TABLE IF NOT EXISTS notifications (
    delivery_id TEXT PRIMARY KEY, service_key TEXT NOT NULL, event TEXT, folio TEXT,
    order_id TEXT, amount TEXT, body TEXT NOT NULL, received_at TEXT NOT NULL);
"""


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self):
        """One connection per call, committed (or rolled back) and closed."""
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def add_order(self, **order) -> None:
        with self._db() as db:
            db.execute("INSERT INTO orders (order_id, service_key, reference, concept, amount, "
                       "email, created_at) VALUES (:order_id, :service_key, :reference, "
                       ":concept, :amount, :email, :created_at)", order)

    def order(self, order_id: str):
        with self._db() as db:
            return db.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()

    def record_result(self, order_id: str, *, status: str, folio: str, paid_at: str) -> None:
        """A verified result; a paid order stays paid whatever comes later."""
        with self._db() as db:
            db.execute("UPDATE orders SET status = ?, folio = NULLIF(?, ''), "
                       "paid_at = NULLIF(?, '') WHERE order_id = ? AND status != 'pagado'",
                       (status, folio, paid_at, order_id))

    def orders(self) -> list:
        with self._db() as db:
            return db.execute("SELECT * FROM orders ORDER BY created_at DESC").fetchall()

    def add_notification(self, service_key: str, body: dict, raw: bytes, received_at: str) -> bool:
        """False when this delivery id was already received (a retry)."""
        with self._db() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO notifications (delivery_id, service_key, event, folio, "
                "order_id, amount, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (str(body["delivery_id"]), service_key, body.get("event"), body.get("folio"),
                 body.get("order_id"), body.get("amount"), raw.decode("utf-8", "replace"),
                 received_at))
            if cursor.rowcount and body.get("order_id") and body.get("event") == "payment.posted":
                db.execute("UPDATE orders SET status = 'pagado', folio = ?, "
                           "paid_at = COALESCE(paid_at, ?) WHERE order_id = ?",
                           (body.get("folio"), body.get("posted_at"), body["order_id"]))
            return cursor.rowcount == 1

    def notifications(self) -> list[dict]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM notifications ORDER BY received_at DESC").fetchall()
        return [dict(row, body=json.loads(row["body"])) for row in rows]
