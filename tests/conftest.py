"""Shared fixtures: real databases (SQLite file and the local PostgreSQL), demo data, actions.

PostgreSQL: each run creates its own database on 127.0.0.1:5432 (trust auth) and drops it after.
Set KAM_TEST_PG_URL to point elsewhere (the URL of a maintenance database such as .../test).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date
from pathlib import Path

import pytest

from actions.db import demo, migrate
from actions.db.session import dispose_all, session_scope
from actions.services import directory

os.environ.setdefault("KAM_DIRECTORY_TTL", "0")  # tests see CRM changes at once (production: 2 s)
PG_ADMIN_URL = os.environ.get("KAM_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def _pg_admin():
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(PG_ADMIN_URL)
    conn = psycopg2.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, dbname=u.database,
        connect_timeout=3,
    )
    conn.autocommit = True
    return conn, u


def create_pg_database() -> str:
    conn, u = _pg_admin()
    name = f"kam_test_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return str(u.set(database=name).render_as_string(hide_password=False))


def drop_pg_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    dispose_all()
    name = make_url(url).database
    conn, _ = _pg_admin()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path, monkeypatch):
    """A migrated, empty CRM database of each kind; DATABASE_URL points at it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        url = create_pg_database()
    monkeypatch.setenv("DATABASE_URL", url)
    directory.clear()
    migrate.upgrade(url)
    yield url
    directory.clear()
    if request.param == "postgresql":
        drop_pg_database(url)
    else:
        dispose_all()


@pytest.fixture
def demo_db(empty_db):
    with session_scope(empty_db) as s:
        demo.load(s, demo.build(today=date.today(), customers=60, seed=7))
    return empty_db


@pytest.fixture
def sqlite_demo(tmp_path, monkeypatch):
    """Faster: the demo data set on SQLite only (for tests about replies, not about databases)."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    directory.clear()
    migrate.upgrade(url)
    with session_scope(url) as s:
        demo.load(s, demo.build(today=date.today(), customers=60, seed=7))
    yield url
    directory.clear()
    dispose_all()


@pytest.fixture(scope="session")
def executor():
    from rasa_sdk.executor import ActionExecutor

    ex = ActionExecutor()
    ex.register_package("actions")
    return ex


class Chat:
    """Drives the action in-process through rasa-sdk's ActionExecutor (the webhook's own code path),
    keeping slots between turns like Rasa's tracker would. `action` names the intent the classifier
    would have given (action_customer_status → customer_status): one vote for the understanding stage."""

    def __init__(self, executor, sender: str = demo.DEMO_TELEGRAM_ID):
        self.executor, self.sender, self.slots = executor, sender, {}

    def say(self, action: str, text: str, intent: str = "", entities: list | None = None, metadata: dict | None = None):
        intent = intent or action.removeprefix("action_")
        tracker = {
            "sender_id": self.sender, "slots": dict(self.slots),
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 1.0},
                               "intent_ranking": [{"name": intent, "confidence": 1.0}],
                               "entities": entities or [], "metadata": metadata or {}},
            "events": [], "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None,
        }
        result = asyncio.run(self.executor.run({
            "next_action": "action_kam", "sender_id": self.sender, "tracker": tracker, "domain": {}, "version": "3.6.2",
        }))
        for e in result["events"]:
            if e["event"] == "slot":
                self.slots[e["name"]] = e["value"]
        self.last = result["responses"]
        return Said(result["responses"])

    def tap(self, title: str):
        """Press a button of the last reply by its title."""
        for r in self.last:
            for b in r.get("buttons") or []:
                if b["title"] == title:
                    return self.say("action_kam", b["payload"], intent="")
        raise AssertionError(f"no button {title!r} in {[b['title'] for r in self.last for b in r.get('buttons') or []]}")


class Said:
    def __init__(self, responses):
        self.responses = responses
        self.text = "\n".join(r.get("text") or "" for r in responses)
        self.buttons = [b for r in responses for b in (r.get("buttons") or [])]
        self.titles = [b["title"] for b in self.buttons]

    def __contains__(self, item):
        return item in self.text

    def __repr__(self):
        return f"Said({self.text!r}, buttons={self.titles})"


@pytest.fixture
def chat(executor, sqlite_demo):
    return Chat(executor)


@pytest.fixture
def make_chat(executor):
    return lambda sender=demo.DEMO_TELEGRAM_ID: Chat(executor, sender)


# ---------------------------------------------------------------- the running stack (e2e)
def thresholds() -> list[tuple]:
    """Customers on each side of the tier (9,999 | 10,000), lifecycle (0.80 | 0.81 of B) and contract
    (89 | 91 days) thresholds: code, name, alias, latest-3 spend, previous-3 spend, contract days."""
    import csv

    with (Path(__file__).parent / "fixtures" / "thresholds.csv").open(encoding="utf-8") as fh:
        return [(r["code"], r["name"], r["alias"], int(r["recent"]), int(r["previous"]), int(r["contract_days"]))
                for r in csv.DictReader(fh)]


def write_threshold_import(folder: Path) -> None:
    """Customers on each side of the tier, lifecycle and contract thresholds, dated from today."""
    from datetime import date, timedelta

    from actions.core.lifecycle import add_months

    folder.mkdir()
    last = add_months(date.today().replace(day=1), -1)
    cust = ["code,name,aliases,industry,importance,manager_code,since,contract_end,status,competitors"]
    bill = ["customer_code,month,amount"]
    for code, name, alias, recent, previous, days in thresholds():
        end = date.today() + timedelta(days=days)
        cust.append(f"{code},{name},{alias},制造业,一般,E100,2020-01-01,{end:%Y-%m-%d},active,")
        for k in range(6):
            month = add_months(last, k - 5)
            bill.append(f"{code},{month:%Y-%m},{previous if k < 3 else recent}")
    (folder / "customers.csv").write_text("\n".join(cust) + "\n", encoding="utf-8")
    (folder / "billing.csv").write_text("\n".join(bill) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    from actions.db.transfer import import_tables, read_source
    from actions.ops import Servers, ensure_model, free_port

    model = ensure_model(quiet=True)
    tmp = tmp_path_factory.mktemp("e2e")
    url = create_pg_database()  # the production database kind
    migrate.upgrade(url)
    with session_scope(url) as s:
        demo.load(s, demo.build(customers=60, seed=7))
    write_threshold_import(tmp / "thresholds")
    with session_scope(url) as s:
        import_tables(s, read_source(Path(__file__).parent / "fixtures" / "import_ok"))
        import_tables(s, read_source(tmp / "thresholds"))
    # Rasa's HTTP API needs servers.auth_token; conversations live in tmp/var/tracker.db (SQLite);
    # a process that dies is restarted (test_trust.py kills both on purpose).
    servers = Servers(model, free_port(), free_port(), env={"DATABASE_URL": url}, log_dir=tmp / "logs",
                      var_dir=tmp / "var")
    servers.start()
    servers.supervise()
    yield servers, url
    servers.stop()
    drop_pg_database(url)




@pytest.fixture
def slow_rasa():
    """A local HTTP server that answers the REST webhook after 2.5 s: a slow Rasa. Yields its URL."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class SlowRasa(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(2.5)
            body = '[{"recipient_id": "1", "text": "华中钢铁集团有限公司 · 钻石客户"}]'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
