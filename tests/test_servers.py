"""The launchers without Rasa: the action server closed to all but our Rasa, the token file, the
REST door's text rules, and the arguments the Rasa launcher adds."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys

import httpx
import pytest

from actions.action_server import TOKEN_HEADER, action_token
from actions.ops import ROOT, auth_token, free_port, wait_http
from actions.rasa_launcher import server_args
from actions.rest_door import FULL_TEXT_KEY, BadRequest, clean_text, parse_body


# ---------------------------------------------------------------- the REST door's rules
def body(**kw) -> bytes:
    return json.dumps({"sender": "10001", "message": "你好", **kw}).encode()


def test_control_characters_go_newline_and_tab_stay():
    assert clean_text("a\x00b\x01c\x7fd\x9fe\r\nf\tg\u200bh") == "abcde\nf\tg\u200bh"  # only category Cc
    assert clean_text("  \x00 华钢 \n") == "华钢"


def test_text_over_the_cap_travels_whole_in_metadata(monkeypatch):
    monkeypatch.setenv("KAM_NLU_MAX_CHARS", "10")
    sender, text, meta = parse_body(body(message="一二三四五六七八九十十一\x00十二", metadata={"message_id": "7"}))
    assert (sender, text) == ("10001", "一二三四五六七八九十")
    assert meta == {"message_id": "7", FULL_TEXT_KEY: "一二三四五六七八九十十一十二"}
    _, text, meta = parse_body(body(message="一二三", metadata={FULL_TEXT_KEY: "伪造"}))
    assert text == "一二三" and FULL_TEXT_KEY not in meta  # a client's kam_full_text is always dropped
    monkeypatch.delenv("KAM_NLU_MAX_CHARS")
    _, text, meta = parse_body(body(message="字" * 600))
    assert len(text) == 500 and len(meta[FULL_TEXT_KEY]) == 600


@pytest.mark.parametrize("raw", [b"[]", b"null", b'"x"', b"{", body(message=None), body(metadata=[]),
                                 body(sender=True), body(sender="x" * 200), b"{" + b" " * 1_000_001 + b"}"])
def test_bad_bodies_are_refused(raw):
    with pytest.raises(BadRequest):
        parse_body(raw)


def test_numeric_sender_and_null_metadata_are_accepted():
    assert parse_body(body(sender=10001, metadata=None)) == ("10001", "你好", {})


# ---------------------------------------------------------------- Rasa launcher arguments
def test_launcher_passes_the_token_and_keeps_the_shell_local(monkeypatch):
    monkeypatch.setenv("RASA_AUTH_TOKEN", "tok")
    args = server_args(["run", "--enable-api", "--model", "m"])
    assert args[-1] == "--auth-token=tok"  # one argument: a dash-leading token is not read as a flag
    args = server_args(["shell", "--model", "m"])
    assert "--auth-token=tok" in args and args[args.index("--interface") + 1] == "127.0.0.1"
    assert server_args(["train"]) == ["train"]
    monkeypatch.delenv("RASA_AUTH_TOKEN")
    with pytest.raises(SystemExit) as e:
        server_args(["run", "--enable-api"])
    assert "RASA_AUTH_TOKEN" in str(e.value)


def test_generated_token_file_is_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    first = auth_token(tmp_path)
    path = tmp_path / "rasa_auth_token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 32
    assert auth_token(tmp_path) == first
    monkeypatch.setenv("RASA_AUTH_TOKEN", "from-env")
    assert auth_token(tmp_path) == "from-env"


# ---------------------------------------------------------------- the action server
def _other_address() -> str | None:
    """A non-loopback address of this machine, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    from datetime import date

    from actions.db import demo, migrate
    from actions.db.session import dispose_all, session_scope

    url = f"sqlite:///{tmp_path_factory.mktemp('actions') / 'crm.db'}"
    migrate.upgrade(url)
    with session_scope(url) as s:
        demo.load(s, demo.build(today=date.today(), customers=60, seed=7))
    dispose_all()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "BOT_SHARED_SECRET": "s3cret", "ACTIONS_INTERFACE": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "actions.action_server", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", 120, proc)
        yield port
    finally:
        os.killpg(proc.pid, 15)
        out = proc.communicate(timeout=20)[0].decode(errors="replace")
        assert "机密" not in out  # the action server never logs message text


def call(text: str, sender: str = "10001") -> dict:
    tracker = {"sender_id": sender, "slots": {}, "latest_message": {"text": text, "intent": {"name": "greet"},
               "entities": [], "metadata": {}}, "events": [], "paused": False, "followup_action": None,
               "active_loop": {}, "latest_action_name": None}
    return {"next_action": "action_kam", "sender_id": sender, "tracker": tracker, "domain": {}, "version": "3.6.21"}


def test_action_server_refuses_calls_without_rasas_token(action_server):
    base = f"http://127.0.0.1:{action_server}"
    assert httpx.get(f"{base}/health").status_code == 200  # probes stay open
    assert httpx.post(f"{base}/webhook", json=call("你好")).status_code == 403
    assert httpx.post(f"{base}/webhook", json=call("你好"), headers={TOKEN_HEADER: "guess"}).status_code == 403
    assert httpx.post(f"{base}/webhook", json=call("你好"), headers={TOKEN_HEADER: "s3cret"}).status_code == 403
    assert httpx.get(f"{base}/actions").status_code == 403
    r = httpx.post(f"{base}/webhook", json=call("你好"), headers={TOKEN_HEADER: action_token("s3cret")})
    assert r.status_code == 200 and r.json()["responses"]  # the action ran (and judged the unsigned message)


def test_action_server_error_does_not_echo_the_request(action_server):
    bad = {"next_action": "action_kam", "tracker": {"latest_message": "机密备忘 not a dict"}, "version": "3.6.21"}
    r = httpx.post(f"http://127.0.0.1:{action_server}/webhook", json=bad, headers={TOKEN_HEADER: action_token("s3cret")})
    assert r.status_code == 500 and "机密" not in r.text and len(r.text) < 200


def test_action_server_listens_on_loopback_only(action_server):
    other = _other_address()
    if other is None:
        pytest.skip("this machine has no non-loopback address")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{other}:{action_server}/health", timeout=3)


def test_rasas_action_endpoint_sends_the_token(action_server, monkeypatch):
    """What Rasa does: read endpoints.yml through the launcher, call the action server."""
    from rasa.core.utils import AvailableEndpoints

    from actions.rasa_launcher import install_action_endpoint_token

    monkeypatch.setattr(AvailableEndpoints, "read_endpoints", AvailableEndpoints.__dict__["read_endpoints"])
    monkeypatch.setenv("BOT_SHARED_SECRET", "s3cret")
    monkeypatch.setenv("ACTION_SERVER_URL", f"http://127.0.0.1:{action_server}/webhook")
    monkeypatch.setenv("KAM_TRACKER_DB", "unused.db")
    install_action_endpoint_token()
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    assert endpoints.action.headers[TOKEN_HEADER] == action_token("s3cret")
    assert "s3cret" not in json.dumps(endpoints.action.headers)  # the secret itself never travels
    result = asyncio.run(endpoints.action.request(json=call("你好"), method="post"))
    assert result["responses"]  # let through, and the action answered


def test_a_token_that_begins_with_a_dash_reaches_rasa_as_one_argument(monkeypatch):
    """A random url-safe token once began with "-" and Rasa's argument parser refused to start."""
    from actions.rasa_launcher import server_args

    monkeypatch.setenv("RASA_AUTH_TOKEN", "-tczDep")
    assert "--auth-token=-tczDep" in server_args(["run", "--enable-api"])
