"""Rasa custom actions: one per intent, each a thin wrapper around a plain-Python handler."""

from __future__ import annotations

from actions.core.reply import Reply
from actions.dialogue.base import KamAction
from actions.services import chitchat, coaching, customers, visits


def _action(name: str, handler, *, requires_manager: bool = True, db_error: Reply | None = None):
    attrs = {
        "action_name": name,
        "requires_manager": requires_manager,
        "handle": lambda self, session, manager, req: handler(session, manager, req),
    }
    if db_error is not None:
        attrs["on_db_error"] = lambda self, req: db_error
    return type("".join(p.title() for p in name.split("_")), (KamAction,), attrs)


ActionGreet = _action("action_greet", chitchat.greet)
ActionGoodbye = _action("action_goodbye", chitchat.goodbye)
ActionThanks = _action("action_thanks", chitchat.thanks)
ActionHelp = _action("action_help", chitchat.help_)
ActionOutOfScope = _action("action_out_of_scope", chitchat.out_of_scope)
ActionFallback = _action("action_fallback", chitchat.fallback)
ActionBind = _action("action_bind", chitchat.bind, requires_manager=False)

ActionCustomerStatus = _action("action_customer_status", customers.customer_status)
ActionVisitBrief = _action("action_visit_brief", customers.visit_brief)
ActionPortfolioAlerts = _action("action_portfolio_alerts", customers.portfolio_alerts)
ActionTierPolicy = _action("action_tier_policy", customers.tier_policy)

ActionFabePitch = _action("action_fabe_pitch", coaching.fabe_pitch)
ActionSpinQuestions = _action("action_spin_questions", coaching.spin_questions)
ActionBundleOffer = _action("action_bundle_offer", coaching.bundle_offer)


class _VisitAction(KamAction):
    """Visit-note actions keep the note in the conversation when the database is down."""

    def on_db_error(self, req):
        return visits.db_down_reply(req)

    def on_unexpected(self, req):
        return visits.failed_reply(req)


def _visit_action(name: str, handler):
    return type(
        "".join(p.title() for p in name.split("_")),
        (_VisitAction,),
        {"action_name": name, "handle": lambda self, session, manager, req: handler(session, manager, req)},
    )


ActionLogVisit = _visit_action("action_log_visit", visits.log_visit)
ActionListVisits = _visit_action("action_list_visits", visits.list_visits)
ActionEditVisit = _visit_action("action_edit_visit", visits.edit_visit)
ActionMyFollowups = _visit_action("action_my_followups", visits.my_followups)
ActionAffirm = _visit_action("action_affirm", visits.affirm)
ActionDeny = _visit_action("action_deny", visits.deny)
ActionRetry = _visit_action("action_retry", visits.retry)
ActionDailyDigest = _visit_action("action_daily_digest", visits.daily_digest)
