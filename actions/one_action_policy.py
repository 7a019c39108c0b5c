"""The dialogue policy: every message is answered by `action_kam`, then the assistant listens.

All understanding happens in one place (actions/understanding/, inside the action), so Rasa's
dialogue policies have nothing to learn: RulePolicy spent 15% of Rasa's CPU matching 27 rules that
all said the same thing, and TED a training run. This policy needs no training data and no time.

config.yml names it as `actions.one_action_policy.OneActionPolicy`. Nothing imports Rasa at module
level (rasa-sdk imports every module of the `actions` package when the action server starts): the
class is built on first use, through the module's __getattr__.
"""

# No `from __future__ import annotations` here: Rasa reads the methods' type hints at run time and
# the types are imported inside _build().
ACTION = "action_kam"
_built: dict = {}


def _build():
    from typing import Any

    from rasa.core.policies.policy import Policy, PolicyPrediction
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    @DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True)
    class OneActionPolicy(Policy):
        """After a user message (or a triggered intent): action_kam; after any action: listen."""

        @staticmethod
        def get_default_config() -> dict[str, Any]:
            return {"priority": 6, "action": ACTION}

        def train(self, training_trackers: list, domain: Domain, **kwargs: Any) -> Resource:
            return self._resource  # nothing to learn

        def predict_action_probabilities(
            self, tracker: DialogueStateTracker, domain: Domain, rule_only_data=None, **kwargs: Any
        ) -> PolicyPrediction:
            result = self._default_predictions(domain)
            just_heard = tracker.latest_action_name == ACTION_LISTEN_NAME
            name = self.config.get("action", ACTION) if just_heard else ACTION_LISTEN_NAME
            result[domain.index_for_action(name)] = 1.0
            return self._prediction(result)

        @classmethod
        def load(cls, config, model_storage, resource, execution_context, **kwargs: Any):
            return cls(config, model_storage, resource, execution_context)

        def persist(self) -> None:
            return None

    return OneActionPolicy


def __getattr__(name: str):
    if name == "OneActionPolicy":
        if not _built:
            _built[name] = _build()
        return _built[name]
    raise AttributeError(name)
