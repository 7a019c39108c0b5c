"""`python -m bot`: run the Telegram front end alone against RASA_URL."""

from __future__ import annotations

import logging
import os

from telegram import Update

from bot.app import build_application
from bot.config import from_env


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("BOT_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines contain the bot token
    settings = from_env()
    app = build_application(settings)
    if settings.webhook_url:
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            secret_token=settings.webhook_secret_token or None,
            webhook_url=f"{settings.webhook_url.rstrip('/')}/{settings.webhook_path}",
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
