"""Start Rasa (`python -m actions.rasa_launcher run|shell …`): two measured fixes, four safeguards.

Both found by profiling the Rasa server under `make bench` (docs/performance.md):
1. ~65% of its CPU was `RemoteAction._validate_action_result`: `jsonschema.validate(result, spec)`
   re-checks the constant response schema against the JSON-Schema metaschema on every
   custom-action call. The validator is now compiled once; every action response is still
   validated against the same schema and a bad one raises the same ValidationError.
2. Then ~24% was `Event.resolve_by_type`, which rebuilds the list of all Event subclasses for
   every event of the tracker it deserialises. The type name → class map is now cached (same
   first-match result; a name not in the cache triggers a fresh scan, so late imports still work).

Nothing is imported at module level: rasa-sdk imports every module of the `actions` package.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("kam.rasa_launcher")


def install_fast_action_validation() -> None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every action call
    validator = cls(schema)

    def _validate_action_result(self, result) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result


def install_event_type_cache() -> None:
    from rasa.shared.core import events
    from rasa.shared.utils.common import all_subclasses

    cache: dict = {}

    def resolve_by_type(type_name, default=None):
        cls = cache.get(type_name)
        if cls is None:
            for candidate in all_subclasses(events.Event):
                cache.setdefault(candidate.type_name, candidate)  # first match wins, as in Rasa
            cls = cache.get(type_name)
        if cls is not None:
            return cls
        if type_name == "topic":
            return None  # backwards compatibility, as in Rasa
        if default is not None:
            return default
        raise ValueError(f"Unknown event name '{type_name}'.")

    events.Event.resolve_by_type = staticmethod(resolve_by_type)


def install_action_failure_reply() -> None:
    """A failed custom action answers 「暂时不可用」 instead of nothing (Rasa logs and goes silent)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered

    from actions.rest_door import UNAVAILABLE

    original = RemoteAction.run
    if getattr(original, "_kam_wrapped", False):
        return

    async def run(self, output_channel, nlg, tracker, domain):
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of the action server gets the reply
            cause = e.__cause__ or e
            log.error("action %s failed for sender %s: %s (answered 暂时不可用)",
                      self.name(), tracker.sender_id, type(cause).__name__)
            return [BotUttered(UNAVAILABLE, {})]

    run._kam_wrapped = True
    RemoteAction.run = run


def install_action_endpoint_token() -> None:
    """With BOT_SHARED_SECRET set, the action endpoint always sends the action server's token."""
    secret = os.environ.get("BOT_SHARED_SECRET")
    if not secret:
        return
    from rasa.core.utils import AvailableEndpoints

    from actions.action_server import TOKEN_HEADER, action_token

    original = AvailableEndpoints.read_endpoints.__func__
    if getattr(original, "_kam_wrapped", False):
        return

    def read_endpoints(cls, endpoint_file):
        endpoints = original(cls, endpoint_file)
        if endpoints.action is not None:
            endpoints.action.headers = {**(endpoints.action.headers or {}), TOKEN_HEADER: action_token(secret)}
        return endpoints

    read_endpoints._kam_wrapped = True
    AvailableEndpoints.read_endpoints = classmethod(read_endpoints)


def install_door_for_shell() -> None:
    from rasa.core import channels

    from actions.rest_door import KamCmdlineInput

    channels.BUILTIN_CHANNELS["cmdline"] = KamCmdlineInput


def _has(args: list[str], *flags: str) -> bool:
    return any(a in flags or any(a.startswith(f + "=") for f in flags) for a in args)


def server_args(args: list[str]) -> list[str]:
    """`--auth-token` from RASA_AUTH_TOKEN, `--interface 127.0.0.1` for the shell; refuse an open API."""
    if not args or args[0] not in ("run", "shell"):
        return args
    args = list(args)
    token = os.environ.get("RASA_AUTH_TOKEN")
    if token and not _has(args, "--auth-token", "-t"):
        args += ["--auth-token", token]
    if args[0] == "shell" and not _has(args, "--interface", "-i"):
        args += ["--interface", "127.0.0.1"]
    if args[0] == "run" and "--enable-api" in args and not _has(args, "--auth-token", "-t"):
        raise SystemExit("错误：--enable-api 需要 RASA_AUTH_TOKEN（或 --auth-token），否则 Rasa 的 HTTP 接口对谁都开放")
    return args


def default_tracker_db() -> None:
    """endpoints.yml keeps conversations in KAM_TRACKER_DB; default var/tracker.db of this checkout."""
    from pathlib import Path

    from actions.ops import private_file

    if not os.environ.get("KAM_TRACKER_DB"):
        var = Path(__file__).resolve().parents[1] / "var"
        var.mkdir(exist_ok=True)
        os.environ["KAM_TRACKER_DB"] = str(var / "tracker.db")
    private_file(Path(os.environ["KAM_TRACKER_DB"]))


def main(argv: list[str] | None = None) -> None:
    args = server_args(list(sys.argv[1:] if argv is None else argv))
    default_tracker_db()
    install_fast_action_validation()
    install_event_type_cache()
    install_action_failure_reply()
    install_action_endpoint_token()
    if args and args[0] == "shell":
        install_door_for_shell()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
