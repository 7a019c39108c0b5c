"""Steps every customer-facing handler shares: access, the customer a command is about, audit.

No text is read here: the understanding stage has already turned the message into a command
whose `customer` says which customer (or why none).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from actions.core.reply import Button, Reply, Turn, payload
from actions.db.models import Customer, Manager
from actions.db.repositories import audit, can_see
from actions.services import directory
from actions.understanding import commands as c

log = logging.getLogger(__name__)

ACCESS_HELP = (
    "你好，我是政企大客户经理助手。你的账号还没有开通。\n"
    "请向系统管理员要一个绑定码，然后发送：/bind 绑定码\n"
    "（管理员用 kam manager bind-code 你的工号 生成，24 小时内有效）"
)
DB_DOWN = "CRM 数据库暂时连不上，这次没查到数据。请稍后再试。"
ASK_WHICH = "请问是哪个客户？比如：华中钢铁最近怎么样"


def unbound_reply() -> Reply:
    return Reply(ACCESS_HELP)


def button_payload(cmd: c.Command, code: str) -> str:
    """The payload that repeats `cmd` for the customer with this code (a tapped candidate)."""
    if isinstance(cmd, c.LookUp):
        return payload("customer_status", customer_code=code, aspect=cmd.aspect if cmd.aspect != "overview" else None)
    if isinstance(cmd, c.Brief):
        return payload("visit_brief", customer_code=code)
    if isinstance(cmd, c.Fabe):
        return payload("fabe_pitch", customer_code=code, product=cmd.product or None)
    if isinstance(cmd, c.Spin):
        return payload("spin_questions", customer_code=code)
    if isinstance(cmd, c.Offer):
        return payload("bundle_offer", customer_code=code, discount=cmd.discount)
    if isinstance(cmd, c.NoteDraft):
        return payload("log_visit", customer_code=code)
    if isinstance(cmd, c.ListVisits):
        return payload("list_visits", customer_code=code)
    if isinstance(cmd, c.CloseFollowUp):
        return payload("followup_done", customer_code=code)
    return payload("customer_status", customer_code=code)


def resolve_customer(turn: Turn, cmd: c.Command, *, required: bool = True) -> tuple[Customer | None, Reply | None]:
    """The customer `cmd` is about, re-checked against access now; or the reply that asks instead.

    Another manager's customer gets exactly the reply of a name that does not exist (the refusal is
    audited). A customer who is no longer visible (access changed) is treated the same way.
    """
    session, manager = turn.session, turn.manager
    ref: c.CustomerRef = getattr(cmd, "customer", c.NO_CUSTOMER)
    intent = cmd.kind
    if ref.status == "found":
        customer = session.get(Customer, ref.id)
        if customer is not None and can_see(session, manager, customer):
            audit(session, manager.code, "view", customer.id, intent=intent)
            return customer, None
        audit(session, manager.code, "access_denied", ref.id, intent=intent)
        return None, not_found(turn, cmd, ref.typed)
    if ref.status == "ambiguous":
        index = directory.customer_index(session)
        audit(session, manager.code, "ambiguous", None, intent=intent, typed=ref.typed[:40], candidates=list(ref.candidates))
        buttons = [Button(index.entries[i].name, button_payload(cmd, index.entries[i].code)) for i in ref.candidates[:6] if i in index.entries]
        if len(buttons) == 1:
            return None, Reply(f"你说的是「{buttons[0].title}」吗？点一下确认。", buttons, context={"awaiting": "customer"})
        return None, Reply(f"「{ref.typed}」对应好几个客户，你说的是哪一个？", buttons, context={"awaiting": "customer"})
    if ref.status == "unknown":
        for hidden in ref.hidden:
            audit(session, manager.code, "access_denied", hidden, intent=intent, typed=ref.typed[:40])
        return None, not_found(turn, cmd, ref.typed)
    if not required:
        return None, None
    return None, Reply(ASK_WHICH, context={"awaiting": "customer"})


def not_found(turn: Turn, cmd: c.Command, typed: str) -> Reply:
    """The same words for a name nobody has and for another manager's customer."""
    session, manager = turn.session, turn.manager
    audit(session, manager.code, "not_found", None, intent=cmd.kind, typed=(typed or "")[:40])
    if not typed:
        return Reply("没找到这个客户。请换个叫法，或发客户全称试试。")
    index = directory.customer_index(session)
    suggestions = index.suggest(typed, directory.filter_for(manager))
    buttons = [Button(index.entries[i].name, button_payload(cmd, index.entries[i].code)) for i in suggestions]
    text = f"没找到「{typed}」这个客户。"
    text += "你名下相近的有：" if buttons else "请换个叫法，或发客户全称试试。"
    return Reply(text, buttons, context={"awaiting": "customer"} if buttons else {})


def visible(session: Session, manager: Manager, customer_id: int | None) -> Customer | None:
    """A customer by id if this manager may see it now (every write re-checks this)."""
    if customer_id is None:
        return None
    customer = session.get(Customer, customer_id)
    return customer if customer is not None and can_see(session, manager, customer) else None


def customer_slot(customer: Customer) -> dict:
    return {"customer_id": str(customer.id)}
