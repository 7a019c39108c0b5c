"""The Rasa custom action. Every intent is answered by `action_kam` (one understanding stage, then
one handler per command: see actions.dialogue.base and actions.dialogue.dispatch)."""

from __future__ import annotations

from actions.dialogue.base import KamAction

__all__ = ["KamAction"]
