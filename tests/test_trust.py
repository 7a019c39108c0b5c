"""Issue 12, server side, over the real servers (the `stack`: Rasa + action server on PostgreSQL).

- Rasa's HTTP API refuses calls without the token; the REST channel needs none.
- The REST door: malformed bodies get a 4xx with a short JSON error, control characters are
  removed, long text reaches the NLU capped and travels whole in metadata.kam_full_text.
- A 20,000-character message is answered in about 2 s while another manager is served normally.
- A killed action server: the next message gets 「暂时不可用」, and it comes back by itself.
- A killed Rasa comes back by itself, and a visit note waiting for 保存 survives it.
- Message text never reaches a log.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from actions.db.models import Visit
from actions.db.session import session_scope
from actions.rest_door import FULL_TEXT_KEY, UNAVAILABLE

pytestmark = pytest.mark.e2e

SECRET_WORD = "机密备忘" + uuid.uuid4().hex[:6]  # in messages of this module; must never reach a log


def post(servers, body=None, *, content: bytes | None = None, timeout: float = 60) -> httpx.Response:
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    if content is not None:
        return httpx.post(url, content=content, headers={"Content-Type": "application/json"}, timeout=timeout)
    return httpx.post(url, json=body, timeout=timeout)


def say(servers, sender: str, text: str, **metadata) -> str:
    r = post(servers, {"sender": sender, "message": text, "metadata": metadata})
    assert r.status_code == 200, r.text
    return "\n".join(m.get("text", "") for m in r.json())


def api(servers, method: str, path: str, **kw) -> httpx.Response:
    return httpx.request(method, f"{servers.rasa_url}{path}", params={"token": servers.auth_token}, timeout=30, **kw)


def restart_conversation(servers, sender: str) -> None:
    api(servers, "POST", f"/conversations/{sender}/tracker/events", json={"event": "restart"}).raise_for_status()


def tracker(servers, sender: str) -> dict:
    r = api(servers, "GET", f"/conversations/{sender}/tracker")
    r.raise_for_status()
    return r.json()


def last_user_event(servers, sender: str) -> dict:
    return [e for e in tracker(servers, sender)["events"] if e["event"] == "user"][-1]


# ---------------------------------------------------------------- the HTTP API is closed
@pytest.mark.parametrize("method,path,body", [
    ("GET", "/conversations/10001/tracker", None),
    ("POST", "/conversations/10001/tracker/events", {"event": "slot", "name": "pending_note", "value": {"text": "x"}}),
    ("PUT", "/conversations/10001/tracker/events", []),
    ("POST", "/conversations/10001/trigger_intent", {"name": "greet"}),
    ("POST", "/model/parse", {"text": "华中钢铁最近怎么样"}),
])
def test_rasa_api_refuses_calls_without_the_token(stack, method, path, body):
    servers, _ = stack
    r = httpx.request(method, f"{servers.rasa_url}{path}", json=body, timeout=30)
    assert r.status_code == 401
    r = httpx.request(method, f"{servers.rasa_url}{path}", json=body, params={"token": "wrong"}, timeout=30)
    assert r.status_code == 401


def test_refused_event_changes_nothing_and_the_token_works(stack):
    servers, _ = stack
    sender = "10001"
    restart_conversation(servers, sender)
    forged = {"event": "slot", "name": "pending_note", "value": {"text": "伪造", "customer_id": 999}}
    assert httpx.post(f"{servers.rasa_url}/conversations/{sender}/tracker/events", json=forged, timeout=30).status_code == 401
    assert tracker(servers, sender)["slots"].get("pending_note") is None
    # the REST channel needs no token
    assert say(servers, sender, "华中钢铁最近怎么样").startswith("华中钢铁集团有限公司")


def test_token_and_conversations_are_private_files_in_var(stack):
    servers, _ = stack
    tracker_db = servers.var_dir / "tracker.db"  # every message text lives here
    assert servers.env["KAM_TRACKER_DB"] == str(tracker_db) and tracker_db.stat().st_size > 0
    assert stat.S_IMODE(tracker_db.stat().st_mode) == 0o600
    if os.environ.get("RASA_AUTH_TOKEN"):
        pytest.skip("RASA_AUTH_TOKEN is set: no token file is written")
    path = servers.var_dir / "rasa_auth_token"
    assert path.read_text(encoding="utf-8").strip() == servers.auth_token and len(servers.auth_token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---------------------------------------------------------------- the REST door
@pytest.mark.parametrize("content,error", [
    (b"[]", "JSON 对象"),
    (b'["10001", "hi"]', "JSON 对象"),
    (b'"hello"', "JSON 对象"),
    (b"null", "JSON 对象"),
    (b"42", "JSON 对象"),
    (b"not json at all", "不是合法的 JSON"),
    (b'{"sender": "10001", "message": "hi"', "不是合法的 JSON"),
    (b"\xff\xfe garbage", "不是合法的 JSON"),
    (b"", "不是合法的 JSON"),
    (b'{"sender": "10001", "message": null}', "message 应为字符串"),
    (b'{"sender": "10001"}', "message 应为字符串"),
    (b'{"sender": "10001", "message": {"text": "hi"}}', "message 应为字符串"),
    (b'{"sender": "10001", "message": ["hi"]}', "message 应为字符串"),
    (b'{"sender": "10001", "message": 5}', "message 应为字符串"),
    (b'{"sender": "10001", "message": "hi", "metadata": "x"}', "metadata 应为 JSON 对象"),
    (b'{"sender": "10001", "message": "hi", "metadata": [1, 2]}', "metadata 应为 JSON 对象"),
    (b'{"sender": "10001", "message": "hi", "metadata": 3}', "metadata 应为 JSON 对象"),
    (b'{"sender": null, "message": "hi"}', "sender"),
    (b'{"sender": {"id": 1}, "message": "hi"}', "sender"),
    (b'{"sender": "", "message": "hi"}', "sender"),
    (b'{"sender": "10001", "message": "\\ud800 broken"}', "Unicode"),
])
def test_malformed_bodies_get_a_short_json_error(stack, content, error):
    servers, _ = stack
    r = post(servers, content=content.replace(b"hi", SECRET_WORD.encode()))
    assert r.status_code == 400
    assert error in r.json()["error"] and len(r.text) < 200


def test_empty_or_control_only_message_gets_a_chinese_reply(stack):
    servers, _ = stack
    for text in ("", "   ", "\x00\x01\x7f"):
        r = post(servers, {"sender": "10001", "message": text})
        assert r.status_code == 200 and "消息是空的" in r.json()[0]["text"]


def test_nul_and_control_characters_are_stripped_and_the_note_saves(stack):
    servers, url = stack
    sender = "10001"
    restart_conversation(servers, sender)
    marker = uuid.uuid4().hex[:8]
    raw = f"刚见完华钢周主任\x00 他说双路由方案可以\x07\x1b 下周三前把报价发过去\r\n编号{marker}\t{SECRET_WORD}\x00"
    clean = f"刚见完华钢周主任 他说双路由方案可以 下周三前把报价发过去\n编号{marker}\t{SECRET_WORD}"
    assert say(servers, sender, raw).startswith("请确认这条拜访记录")
    assert last_user_event(servers, sender)["text"] == clean
    assert say(servers, sender, "/affirm").startswith("已保存")
    with session_scope(url) as s:
        summary = s.execute(select(Visit.summary).where(Visit.summary.contains(marker))).scalar_one()
    assert summary == clean


def test_long_text_is_capped_for_the_nlu_and_travels_whole_in_metadata(stack):
    servers, _ = stack
    sender = "10002"
    restart_conversation(servers, sender)
    full = "华中钢铁最近怎么样 " + "他们说专线不稳定\x00" * 100 + SECRET_WORD
    clean = full.replace("\x00", "")
    say(servers, sender, full, kam_full_text="客户端自己写的，必须丢掉")
    event = last_user_event(servers, sender)
    assert event["text"] == clean[:500]
    assert event["metadata"][FULL_TEXT_KEY] == clean
    # a short text: no kam_full_text at all, whatever the client sent
    say(servers, sender, "你好", kam_full_text="伪造的全文")
    assert FULL_TEXT_KEY not in last_user_event(servers, sender)["metadata"]


def test_20000_characters_answered_in_about_2s_while_another_manager_is_served(stack):
    servers, _ = stack
    restart_conversation(servers, "10001")
    restart_conversation(servers, "20100")
    filler = "周主任还提到专线经常中断，机房要扩容，预算下个月批。"
    long = ("刚见完华钢周主任 他说双路由方案可以 下周三前把报价发过去 " + filler * 1000)[:19990] + SECRET_WORD
    assert len(long) == 20000
    other: list[tuple[float, str]] = []
    done = threading.Event()

    def other_manager():
        while not done.is_set():
            t = time.perf_counter()
            reply = say(servers, "20100", "明珠新材咋样")
            other.append((time.perf_counter() - t, reply))

    worker = threading.Thread(target=other_manager)
    worker.start()
    time.sleep(1.0)  # the other manager is already being served
    try:
        t = time.perf_counter()
        r = post(servers, {"sender": "10001", "message": long})
        elapsed = time.perf_counter() - t
        time.sleep(0.5)
    finally:
        done.set()
        worker.join(30)
    assert r.status_code == 200
    reply = "\n".join(m.get("text", "") for m in r.json())
    assert reply and UNAVAILABLE not in reply
    print(f"\n20,000 characters: {elapsed:.2f} s; other manager: "
          f"{', '.join(f'{t:.2f}' for t, _ in other)} s")
    assert elapsed < 2.5, f"20,000 characters took {elapsed:.2f} s"
    assert other and all(reply.startswith("鄂东明珠新材料股份有限公司") for _, reply in other)
    assert max(t for t, _ in other) < 2.0
    say(servers, "10001", "/deny")  # leave no note waiting


# ---------------------------------------------------------------- crashes and restarts
def launcher_log(servers) -> str:
    path = servers.log_dir / "launcher.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_killed_action_server_answers_unavailable_then_recovers_by_itself(stack):
    servers, _ = stack
    sender = "10001"
    restart_conversation(servers, sender)
    before = servers.restarts.get("actions", 0)
    os.killpg(servers.actions.pid, signal.SIGKILL)
    servers.actions.wait(10)
    r = post(servers, {"sender": sender, "message": f"华中钢铁最近怎么样 {SECRET_WORD}"})
    assert r.status_code == 200
    assert [m["text"] for m in r.json()] == [UNAVAILABLE]
    deadline = time.monotonic() + 120
    reply = ""
    while time.monotonic() < deadline:
        reply = say(servers, sender, "华中钢铁最近怎么样")
        if reply.startswith("华中钢铁集团有限公司"):
            break
        assert reply == UNAVAILABLE
        time.sleep(1)
    assert reply.startswith("华中钢铁集团有限公司"), "the action server did not come back"
    # the supervisor counts the restart once its readiness check returns, which can be a moment
    # after the first answer got through
    counted = time.monotonic() + 15
    while servers.restarts.get("actions", 0) == before and time.monotonic() < counted:
        time.sleep(0.2)
    assert servers.restarts.get("actions", 0) == before + 1
    log = launcher_log(servers)
    assert "动作服务器意外退出（退出码 -9）" in log and "动作服务器已重启" in log


def test_killed_rasa_restarts_and_the_pending_note_survives(stack):
    servers, url = stack
    sender = "10001"
    restart_conversation(servers, sender)
    marker = uuid.uuid4().hex[:8]
    note = f"刚见完华钢王科长 IDC机柜要加2个 月底前报价 编号{marker}"
    assert say(servers, sender, note).startswith("请确认这条拜访记录")
    before = servers.restarts.get("rasa", 0)
    os.killpg(servers.rasa.pid, signal.SIGKILL)
    servers.rasa.wait(10)
    deadline = time.monotonic() + 300
    while servers.restarts.get("rasa", 0) == before and time.monotonic() < deadline:
        time.sleep(1)
    assert servers.restarts.get("rasa", 0) == before + 1, "Rasa did not come back"
    assert "Rasa意外退出" in launcher_log(servers)
    assert say(servers, sender, "/affirm").startswith("已保存")  # the note waited through the restart
    with session_scope(url) as s:
        assert s.execute(select(Visit.summary).where(Visit.summary.contains(marker))).scalar_one() == note


# ---------------------------------------------------------------- logs (keep last in this module)
def test_message_text_never_reaches_a_log(stack):
    servers, _ = stack
    say(servers, "10001", f"{SECRET_WORD} 阿巴阿巴 qwerty")
    post(servers, content=f'{{"sender": "10001", "message": "{SECRET_WORD}"'.encode())
    logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in servers.log_dir.glob("*.log")}
    assert {"rasa.log", "actions.log"} <= set(logs)
    for name, text in logs.items():
        assert SECRET_WORD not in text, f"message text in {name}"
        assert servers.auth_token not in text, f"the API token in {name}"
