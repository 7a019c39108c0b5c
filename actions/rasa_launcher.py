"""Start Rasa (`python -m actions.rasa_launcher run|shell …`) with one measured fix.

Profiling `make bench` showed ~65% of the Rasa server's CPU in
`RemoteAction._validate_action_result`: it calls `jsonschema.validate(result, spec)`, which
re-checks the constant response schema against the JSON-Schema metaschema on every custom-action
call. Here the validator is compiled once; every action response is still validated against the
same schema and a bad one raises the same ValidationError with the same message.

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


def main(argv: list[str] | None = None) -> None:
    install_fast_action_validation()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
