"""Steps every customer-facing handler shares: identity, finding the customer, access, audit."""

from __future__ import annotations

import logging
import re

from sqlalchemy.orm import Session

from actions.core.reply import Button, Reply, Request, payload
from actions.db.models import Customer, Manager
from actions.db.repositories import audit, can_see, customer_by_code
from actions.services import directory

log = logging.getLogger(__name__)

ACCESS_HELP = (
    "你好，我是政企大客户经理助手。你的账号还没有开通。\n"
    "请向系统管理员要一个绑定码，然后发送：/bind 绑定码\n"
    "（管理员用 kam manager bind-code 你的工号 生成，24 小时内有效）"
)
DB_DOWN = "CRM 数据库暂时连不上，这次没查到数据。请稍后再试。"
FOLLOW_UP_CUES = re.compile(r"他们|他|她|它|这家|那家|该客户|这个客户|那个客户|这客户")
ORG_NAME = re.compile(
    r"^[\u4e00-\u9fff]{2,}?(?:有限公司|公司|集团|医院|银行|商行|学校|中学|小学|学院|大学|分局|局|酒店|饭店|宾馆|"
    r"网咖|网吧|工厂|厂|研究所|委员会|管委会|政府|中心|超市|物流)"
)
# Words around a name: a name is what stands between them ("去武当山旅游公司", not "跟医院介绍").
_AROUND = re.compile(r"跟|给|和|对|向|去|见|在|到|从|怎么|如何|介绍|讲讲|讲|推|聊|帮我|准备|明天|今天|后天|[，。！？,.!?\s]")


def _org_name(text: str) -> str:
    for chunk in _AROUND.split(text):
        m = ORG_NAME.match(chunk)
        if m:
            return m.group()
    return ""


def names_unknown_customer(req: Request, intent: str) -> str:
    """The text names a customer (that did not resolve): never fall back to the current one."""
    text = req.free_text
    if not text or FOLLOW_UP_CUES.search(text):
        return ""
    rest = _leftover(text)
    org = _org_name(text)
    if org:
        return org
    if intent in ("customer_status", "visit_brief") and len(rest) >= 3:
        return rest  # "光谷科技怎么样": a name, not a follow-up question
    return ""


def unbound_reply(req: Request) -> Reply:
    return Reply(ACCESS_HELP)


def _context_customer(session: Session, manager: Manager, req: Request) -> Customer | None:
    cid = req.slots.get("customer_id")
    if not cid:
        return None
    try:
        customer = session.get(Customer, int(cid))
    except (TypeError, ValueError):
        return None
    if customer is None or not can_see(session, manager, customer):
        return None
    return customer


def find_customer(
    session: Session,
    manager: Manager,
    req: Request,
    *,
    intent: str,
    required: bool = True,
    keep: dict | None = None,
    guess_from_text: bool = True,
    use_context: bool = True,
) -> tuple[Customer | None, Reply | None]:
    """The customer this turn is about, or a reply that asks/refuses instead.

    Order: a button's customer_code; the customer named in the text (entity value, then the
    whole text); the conversation's current customer. Never guesses between two customers.
    """
    code = req.entity("customer_code")
    if code:
        customer = customer_by_code(session, code)
        if customer is None or not can_see(session, manager, customer):
            audit(session, manager.code, "access_denied", customer.id if customer else None, intent=intent)
            return None, Reply("这个客户不在你的权限范围内，无法查看。")
        _audit_view(session, manager, customer, intent)
        return customer, None

    typed_entity = req.entity("customer")
    texts = [t for t in (typed_entity, req.free_text) if t]
    index = None
    resolved = []
    for text in texts:
        res, index = directory.resolve(session, manager, text)
        resolved.append(res)
    # A match found in any of them wins over a weaker one: DIET may tag only 江城 of 江城银型 (a
    # typo of 江城银行), whose prefix match must not hide the whole text's typo match.
    resolved.sort(key=lambda r: r.status != "found")
    for res in resolved:
        if res.status == "found":
            customer = session.get(Customer, res.id)
            _audit_view(session, manager, customer, intent)
            return customer, None
        if res.status == "ambiguous":
            audit(session, manager.code, "ambiguous", None, intent=intent, typed=res.matched, candidates=res.ids)
            buttons = [
                Button(index.entries[i].name, payload(intent, customer_code=index.entries[i].code, **(keep or {})))
                for i in res.ids[:6]
            ]
            if len(res.ids) == 1:
                return None, Reply(f"你说的是「{index.entries[res.ids[0]].name}」吗？点一下确认。", buttons)
            return None, Reply(f"「{res.matched}」对应好几个客户，你说的是哪一个？", buttons)
        if res.status == "forbidden":
            for hidden in res.hidden_ids:
                audit(session, manager.code, "access_denied", hidden, intent=intent, typed=res.matched)
            log.info("access denied: manager=%s intent=%s", manager.code, intent)
            return None, Reply(
                f"「{res.matched}」不在你的客户名单里，无法查看。\n如确需了解，请联系你的部门经理。"
            )

    unknown = "" if typed_entity else names_unknown_customer(req, intent)
    context = _context_customer(session, manager, req) if use_context and not unknown else None
    if context is not None and not (typed_entity and not FOLLOW_UP_CUES.search(req.free_text)):
        _audit_view(session, manager, context, intent)
        return context, None
    if not required and not unknown:
        return None, None

    # Never echo a pronoun as a customer's name: "他们合同啥时候到期" with no current customer asks.
    from_text = guess_from_text and not FOLLOW_UP_CUES.search(req.free_text)
    guess = typed_entity or unknown or (_leftover(req.free_text) if from_text else "")
    index = index or directory.customer_index(session)
    suggestions = index.suggest(guess or req.free_text, directory.filter_for(manager)) if (guess or req.free_text) else []
    buttons = [
        Button(index.entries[i].name, payload(intent, customer_code=index.entries[i].code, **(keep or {})))
        for i in suggestions
    ]
    audit(session, manager.code, "not_found", None, intent=intent, typed=(guess or "")[:40])
    if guess:
        text = f"没找到「{guess}」这个客户。"
        text += "你名下相近的有：" if buttons else "请换个叫法，或发客户全称试试。"
        return None, Reply(text, buttons)
    return None, Reply("请问是哪个客户？比如：华中钢铁最近怎么样", buttons)


_FILLER = re.compile(
    r"最近|怎么样|咋样|怎样|情况|什么|啥|一下|帮我|给我|查查|查下|查一下|看看|看下|说说|的|了|吗|呢|吧|啊|"
    r"明天|今天|后天|下午|上午|准备|去|见|拜访|简报|合同|联系人|消费|套餐|推荐|到期|时候|现在|还|有没有|是|"
    r"投诉|故障|工单|产品|业务|等级|级别|风险|预警|账单|关键人|决策人|多少|几号|花|钱|每个月|每月|近况|"
    r"那边|这阵子|这段时间|如何|动静|变化|新|那|就|有谁|是谁|谁|哪些|哪个|哪家|"
    r"[，。！？,.!?\s]"
)


def _leftover(text: str) -> str:
    rest = _FILLER.sub("", text or "")
    return rest if 2 <= len(rest) <= 20 else ""


def _audit_view(session: Session, manager: Manager, customer: Customer, intent: str) -> None:
    audit(session, manager.code, "view", customer.id, intent=intent)


def customer_slot(customer: Customer) -> dict:
    return {"customer_id": str(customer.id)}
