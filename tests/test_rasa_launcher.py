"""The launcher's faster action-response validation validates exactly as Rasa does."""

import pytest
from jsonschema import ValidationError

from actions.rasa_launcher import install_fast_action_validation


def test_fast_validation_accepts_good_and_rejects_bad_responses():
    from rasa.core.actions.action import RemoteAction

    install_fast_action_validation()
    action = RemoteAction("action_kam", None)
    good = {"events": [{"event": "slot", "name": "customer_id", "value": "1"}],
            "responses": [{"text": "华中钢铁集团有限公司", "buttons": [{"title": "拜访简报", "payload": "/visit_brief"}]}]}
    assert action._validate_action_result(good) is True
    with pytest.raises(ValidationError) as e:
        action._validate_action_result({"events": [{"event": "slot"}], "responses": "not a list"})
    assert "Failed to validate Action server response" in e.value.message


def test_event_type_cache_resolves_like_rasa():
    from rasa.shared.core import events

    original = {name: events.Event.resolve_by_type(name) for name in ("slot", "user", "bot", "action", "restart")}
    from actions.rasa_launcher import install_event_type_cache

    install_event_type_cache()
    for name, cls in original.items():
        assert events.Event.resolve_by_type(name) is cls
    assert events.Event.resolve_by_type("topic") is None
    assert events.Event.resolve_by_type("nope", default=events.SlotSet) is events.SlotSet
    with pytest.raises(ValueError):
        events.Event.resolve_by_type("nope")
    restored = events.deserialise_events([{"event": "slot", "name": "customer_id", "value": "1"}])
    assert isinstance(restored[0], events.SlotSet)
