"""Start Rasa (`python -m actions.rasa_launcher run|shell …`) with two measured fixes.

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

import sys


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


def main(argv: list[str] | None = None) -> None:
    install_fast_action_validation()
    install_event_type_cache()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
