"""Scale-out: two Rasa servers on the SQL tracker store (PostgreSQL) and the Redis lock store.

One conversation alternates between the two servers: the current customer and a pending visit
note survive every switch, and restarting a server loses no conversation.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
import redis

from actions.ops import ROOT, Servers, ensure_model, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_rasas(stack):
    from conftest import create_pg_database, drop_pg_database
    from sqlalchemy.engine import make_url

    servers, crm_url = stack
    tracker_url = create_pg_database()
    u = make_url(tracker_url)
    prefix = f"kamtest{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": crm_url,
        "TRACKER_DB_HOST": u.host, "TRACKER_DB_PORT": str(u.port or 5432), "TRACKER_DB_NAME": u.database,
        "TRACKER_DB_USER": u.username or "postgres", "TRACKER_DB_PASSWORD": u.password or "",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "0", "REDIS_KEY_PREFIX": prefix,
        "RASA_AUTH_TOKEN": servers.auth_token,
    }
    model = ensure_model(quiet=True)
    logs = ROOT / "var" / "log" / "scaleout"
    a = Servers(model, free_port(), servers.actions_port, env=env, log_dir=logs, endpoints="deploy/endpoints.yml")
    b = Servers(model, free_port(), servers.actions_port, env=env, log_dir=logs, endpoints="deploy/endpoints.yml")
    a.start_rasa()
    b.start_rasa()
    yield a, b, prefix
    a.stop_rasa()
    b.stop_rasa()
    drop_pg_database(tracker_url)
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def say(server: Servers, sender: str, text: str) -> str:
    r = httpx.post(f"{server.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    r.raise_for_status()
    return "\n".join(m.get("text", "") for m in r.json())


def test_conversation_alternates_between_servers_and_survives_restart(two_rasas):
    a, b, _ = two_rasas
    sender = "10001"  # the demo manager
    assert say(a, sender, "华中钢铁最近怎么样").startswith("华中钢铁集团有限公司")
    reply = say(b, sender, "他们合同啥时候到期")  # context kept across servers
    assert reply.startswith("华中钢铁集团有限公司") and "合同到期" in reply
    note = f"刚见完周主任 他说方案可以 下周三前发报价 编号{uuid.uuid4().hex[:6]}"
    assert say(a, sender, note).startswith("请确认这条拜访记录")
    assert say(b, sender, "/affirm").startswith("已保存")  # the pending note crossed servers
    a.stop_rasa()
    a.start_rasa()  # a restart loses nothing
    reply = say(a, sender, "联系人呢")
    assert reply.startswith("华中钢铁集团有限公司") and "黄伟" in reply
    tracker = httpx.get(f"{b.rasa_url}/conversations/{sender}/tracker", params={"token": b.auth_token},
                        timeout=30).json()
    texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert "华中钢铁最近怎么样" in texts and note in texts and "联系人呢" in texts

