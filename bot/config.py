"""Bot settings from the environment (all documented in README「在 Telegram 上部署」)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    token: str
    api_base_url: str = "https://api.telegram.org"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""  # Rasa's --auth-token, for /conversations/… (digest)
    shared_secret: str = ""
    rasa_timeout: float = 30.0  # give up after this many seconds
    slow_notice_after: float = 5.0  # tell the manager we are still working
    rate_limit_per_minute: int = 20
    webhook_url: str = ""  # set → webhook mode; empty → long polling
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "telegram"
    webhook_secret_token: str = ""
    digest_time: time | None = field(default_factory=lambda: time(8, 30))
    digest_workdays_only: bool = True
    timezone: str = "Asia/Shanghai"
    state_file: str = "var/bot_state.pickle"

    @property
    def base_url(self) -> str:
        return self.api_base_url.rstrip("/") + "/bot"

    @property
    def base_file_url(self) -> str:
        return self.api_base_url.rstrip("/") + "/file/bot"


def _digest_time(value: str | None) -> time | None:
    if value is None:
        return time(8, 30)
    value = value.strip().lower()
    if value in ("", "off", "none", "0"):
        return None
    hour, _, minute = value.partition(":")
    return time(int(hour), int(minute or 0))


def from_env(env: dict | None = None) -> Settings:
    env = os.environ if env is None else env
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise SystemExit("错误：没有设置 TELEGRAM_BOT_TOKEN（在 BotFather 创建机器人后得到的 token）")
    return Settings(
        token=token,
        api_base_url=env.get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org",
        rasa_url=(env.get("RASA_URL") or f"http://127.0.0.1:{env.get('RASA_PORT', '5005')}").rstrip("/"),
        rasa_token=env.get("RASA_AUTH_TOKEN", ""),
        shared_secret=env.get("BOT_SHARED_SECRET", ""),
        rasa_timeout=float(env.get("RASA_TIMEOUT", "30")),
        slow_notice_after=float(env.get("BOT_SLOW_NOTICE_SECONDS", "5")),
        rate_limit_per_minute=int(env.get("BOT_RATE_LIMIT_PER_MINUTE", "20")),
        webhook_url=env.get("TELEGRAM_WEBHOOK_URL", ""),
        webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=int(env.get("TELEGRAM_WEBHOOK_PORT", "8443")),
        webhook_path=env.get("TELEGRAM_WEBHOOK_PATH", "telegram"),
        webhook_secret_token=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
        digest_time=_digest_time(env.get("DIGEST_TIME")),
        digest_workdays_only=_bool(env.get("DIGEST_WORKDAYS_ONLY"), True),
        timezone=env.get("BOT_TIMEZONE", "Asia/Shanghai"),
        state_file=env.get("BOT_STATE_FILE", "var/bot_state.pickle"),
    )
