"""The action server: rasa-sdk's app, closed to everyone but our Rasa.

`python -m actions.action_server [--port P] [--interface HOST]` (what `kam serve`, the systemd unit
and the compose file run) differs from `python -m rasa_sdk` in four ways:
- it listens on 127.0.0.1 unless ACTIONS_INTERFACE (or --interface) says otherwise
  (rasa-sdk listens on 0.0.0.0);
- with BOT_SHARED_SECRET set, /webhook and /actions answer 403 unless the request carries
  `X-Kam-Action-Token: HMAC-SHA256(secret, "kam-action-endpoint")`; our Rasa adds that header
  (actions/rasa_launcher.py) and nothing else knows it; /health stays open for probes;
- an exception answers 500 with a short error, not the request body (rasa-sdk echoes the whole
  tracker, message texts included) and the log names the exception type, not the tracker;
- no CORS: no browser page may call it.

Nothing runs at import time: rasa-sdk imports every module of the `actions` package.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import os

TOKEN_HEADER = "X-Kam-Action-Token"
log = logging.getLogger("kam.action_server")


def action_token(secret: str) -> str:
    """What Rasa sends to the action server: derived from the shared secret, never the secret itself."""
    return hmac.new(secret.encode(), b"kam-action-endpoint", hashlib.sha256).hexdigest()


def create_app(package: str = "actions", secret: str | None = None):
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response

    app = sdk_app(package, cors_origins=None)
    expected = action_token(secret) if secret else None

    async def guard(request):
        if expected is None or request.path == "/health":
            return None
        given = request.headers.get(TOKEN_HEADER, "")
        if hmac.compare_digest(given.encode(), expected.encode()):
            return None
        log.warning("action server: refused a %s %s without the Rasa token", request.method, request.path)
        return response.json({"error": "forbidden"}, status=403)

    app.register_middleware(guard, "request")

    @app.listener("after_server_start")
    async def freeze_startup_objects(app, loop):  # the GC's passes then skip what start-up loaded
        import gc

        gc.collect()
        gc.freeze()

    async def on_error(request, exception: Exception):
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            action = None
            try:
                body = request.json
                action = body.get("next_action") if isinstance(body, dict) else None
            except Exception:  # noqa: BLE001 - an unreadable body is itself the error
                action = None
            log.error("action server: %s while running %s", type(exception).__name__, action or "a request")
        return response.json({"error": type(exception).__name__}, status=status)

    app.error_handler.add(Exception, on_error)
    return app


def keep_tensorflow_out() -> None:
    """The note parser uses spaCy's rule-based matchers only; spaCy's thinc would import TensorFlow
    (installed for Rasa) on its own and add ~300 MiB to this process. Mark it unavailable here, in the
    action server's own process only (never on import: Rasa, in its process, needs it)."""
    import sys

    for name in ("tensorflow", "torch", "mxnet"):
        if name not in sys.modules:
            sys.modules[name] = None  # `import tensorflow` raises ImportError: thinc runs without it


def main(argv: list[str] | None = None) -> None:
    from actions.quiet import quiet_library_deprecations

    quiet_library_deprecations()
    keep_tensorflow_out()
    p = argparse.ArgumentParser(prog="python -m actions.action_server", description="KAM action server")
    p.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    p.add_argument("--interface", default=os.environ.get("ACTIONS_INTERFACE", "127.0.0.1"))
    p.add_argument("--actions", default="actions")
    args = p.parse_args(argv)
    logging.basicConfig(level=os.environ.get("KAM_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    secret = os.environ.get("BOT_SHARED_SECRET") or None
    app = create_app(args.actions, secret)
    log.info("action server on %s:%s (%s)", args.interface, args.port,
             "Rasa token required" if secret else "no BOT_SHARED_SECRET: open to local callers")
    from rasa_sdk import utils

    app.run(args.interface, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
