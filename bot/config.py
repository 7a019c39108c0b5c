"""Front-end settings from the environment (all documented in README「配置」, 「在 Telegram 上部署」
and「企业微信部署」). What both channels share is `RelaySettings`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, kw_only=True)
class RelaySettings:
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""  # Rasa's --auth-token, for /conversations/… (digest)
    shared_secret: str = ""
    rasa_timeout: float = 30.0  # give up after this many seconds
    slow_notice_after: float = 5.0  # tell the manager we are still working
    rate_limit_per_minute: int = 20
    digest_time: time | None = field(default_factory=lambda: time(8, 30))
    digest_workdays_only: bool = True
    timezone: str = "Asia/Shanghai"
    state_db: str = "var/bot.db"  # known users, button payloads, kept messages (SQLite, both channels)
    legacy_state_file: str = ""  # the old Telegram pickle, imported once (from_env: BOT_STATE_FILE)


@dataclass(frozen=True, kw_only=True)
class Settings(RelaySettings):
    """Telegram."""

    token: str
    api_base_url: str = "https://api.telegram.org"
    webhook_url: str = ""  # set → webhook mode; empty → long polling
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "telegram"
    webhook_secret_token: str = ""

    @property
    def base_url(self) -> str:
        return self.api_base_url.rstrip("/") + "/bot"

    @property
    def base_file_url(self) -> str:
        return self.api_base_url.rstrip("/") + "/file/bot"


@dataclass(frozen=True, kw_only=True)
class WeComSettings(RelaySettings):
    """企业微信 self-built application (自建应用)."""

    corp_id: str
    agent_id: int
    secret: str
    token: str  # the callback's Token
    aes_key: str  # the callback's 43-character EncodingAESKey
    api_base_url: str = "https://qyapi.weixin.qq.com"
    listen: str = "127.0.0.1"
    port: int = 8444
    path: str = "/wecom"


def _digest_time(value: str | None) -> time | None:
    if value is None:
        return time(8, 30)
    value = value.strip().lower()
    if value in ("", "off", "none", "0"):
        return None
    hour, _, minute = value.partition(":")
    return time(int(hour), int(minute or 0))


def _relay(env) -> dict:
    return dict(
        rasa_url=(env.get("RASA_URL") or f"http://127.0.0.1:{env.get('RASA_PORT', '5005')}").rstrip("/"),
        rasa_token=env.get("RASA_AUTH_TOKEN", ""),
        shared_secret=env.get("BOT_SHARED_SECRET", ""),
        rasa_timeout=float(env.get("RASA_TIMEOUT", "30")),
        slow_notice_after=float(env.get("BOT_SLOW_NOTICE_SECONDS", "5")),
        rate_limit_per_minute=int(env.get("BOT_RATE_LIMIT_PER_MINUTE", "20")),
        digest_time=_digest_time(env.get("DIGEST_TIME")),
        digest_workdays_only=_bool(env.get("DIGEST_WORKDAYS_ONLY"), True),
        timezone=env.get("BOT_TIMEZONE", "Asia/Shanghai"),
        state_db=env.get("BOT_STATE_DB", "var/bot.db"),
        legacy_state_file=env.get("BOT_STATE_FILE", "var/bot_state.pickle"),
    )


def relay_from_env(env) -> RelaySettings:
    """The settings every front end shares (the terminal chat needs no more)."""
    return RelaySettings(**_relay(env))


def from_env(env: dict | None = None) -> Settings:
    env = os.environ if env is None else env
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise SystemExit("错误：没有设置 TELEGRAM_BOT_TOKEN（在 BotFather 创建机器人后得到的 token）")
    return Settings(
        token=token,
        api_base_url=env.get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org",
        webhook_url=env.get("TELEGRAM_WEBHOOK_URL", ""),
        webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=int(env.get("TELEGRAM_WEBHOOK_PORT", "8443")),
        webhook_path=env.get("TELEGRAM_WEBHOOK_PATH", "telegram"),
        webhook_secret_token=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
        **_relay(env),
    )


WECOM_REQUIRED = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")


def wecom_from_env(env: dict | None = None) -> WeComSettings:
    env = os.environ if env is None else env
    missing = [name for name in WECOM_REQUIRED if not env.get(name, "").strip()]
    if missing:
        raise SystemExit(f"错误：没有设置 {'、'.join(missing)}（见 README「企业微信部署」）")
    if len(env["WECOM_AES_KEY"].strip()) != 43:
        raise SystemExit("错误：WECOM_AES_KEY 应为应用「接收消息」设置里 43 个字符的 EncodingAESKey")
    if not env["WECOM_AGENT_ID"].strip().isdigit():
        raise SystemExit("错误：WECOM_AGENT_ID 应为应用的 AgentId（数字）")
    return WeComSettings(
        corp_id=env["WECOM_CORP_ID"].strip(),
        agent_id=int(env["WECOM_AGENT_ID"]),
        secret=env["WECOM_SECRET"].strip(),
        token=env["WECOM_TOKEN"].strip(),
        aes_key=env["WECOM_AES_KEY"].strip(),
        api_base_url=(env.get("WECOM_API_BASE_URL") or "https://qyapi.weixin.qq.com").rstrip("/"),
        listen=env.get("WECOM_LISTEN", "127.0.0.1"),
        port=int(env.get("WECOM_PORT", "8444")),
        path="/" + env.get("WECOM_PATH", "/wecom").strip("/"),
        **_relay(env),
    )
