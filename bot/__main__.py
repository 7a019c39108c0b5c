"""`python -m bot`: the Telegram front end; `python -m bot wecom`: the WeCom (企业微信) front end;
`python -m bot terminal`: the terminal chat. Each alone against RASA_URL."""

from __future__ import annotations

import logging
import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    channel = argv[0] if argv else "telegram"
    logging.basicConfig(  # the terminal chat shows only problems between the replies
        level=os.environ.get("BOT_LOG_LEVEL", "WARNING" if channel == "terminal" else "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("httpx", "urllib3"):  # their INFO/DEBUG lines contain the bot token / access token
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if channel == "wecom":
        from bot.wecom_app import run

        run()
    elif channel == "telegram":
        run_telegram()
    elif channel == "terminal":
        from bot.terminal_app import run

        run()
    else:
        raise SystemExit("用法：python -m bot [telegram|wecom|terminal]")


def run_telegram() -> None:
    from telegram import Update

    from bot.config import from_env
    from bot.telegram_app import build_application

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
