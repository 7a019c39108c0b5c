"""greet, goodbye, thanks, help, out_of_scope, fallback, bind."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from actions.core.reply import Button, Reply, Request, payload
from actions.db.access import redeem_bind_code
from actions.db.models import Manager

EXAMPLES = (
    Button("华中钢铁最近怎么样", payload("customer_status", customer="华中钢铁")),
    Button("我的客户有哪些风险", payload("portfolio_alerts")),
    Button("今天要跟进谁", payload("my_followups")),
    Button("钻石客户有什么权益", payload("tier_policy", tier="钻石")),
)
CAPABILITIES = (
    "· 查客户：华钢最近怎么样 / 他们合同啥时候到期\n"
    "· 拜访前：明天去华中钢铁，帮我准备一下\n"
    "· 话术：给华钢讲讲5G专网 / 见他们CIO该问点啥\n"
    "· 套餐：华钢适合什么套餐 / 能不能打八折\n"
    "· 记拜访：刚见完周主任，他说方案可以，下周三前发报价\n"
    "· 待办与预警：今天要跟进谁 / 哪些合同快到期了"
)


def greet(session: Session, manager: Manager, req: Request) -> Reply:
    return Reply(f"{manager.name}你好！我是大客户经理助手，可以帮你：\n{CAPABILITIES}", list(EXAMPLES))


def help_(session: Session, manager: Manager, req: Request) -> Reply:
    return Reply(f"直接用大白话问就行，客户名写简称、拼音首字母都可以：\n{CAPABILITIES}", list(EXAMPLES))


def thanks(session: Session, manager: Manager, req: Request) -> Reply:
    return Reply("不客气，有需要随时找我。")


def goodbye(session: Session, manager: Manager, req: Request) -> Reply:
    return Reply("好的，拜访顺利！记得走完客户把情况发给我记一下。")


def out_of_scope(session: Session, manager: Manager, req: Request) -> Reply:
    return Reply("这个我帮不上忙，我只管大客户相关的事：查客户、拜访准备、话术、套餐和拜访记录。", list(EXAMPLES))


def fallback(session: Session, manager: Manager, req: Request) -> Reply:
    return Reply("抱歉，这句我没太明白。你可以换个说法，或者点下面的例子：", list(EXAMPLES))


_CODE = re.compile(r"\b([A-Za-z0-9]{6,12})\b")


def bind(session: Session, manager: Manager | None, req: Request) -> Reply:
    code = req.entity("bind_code")
    if not code:
        m = _CODE.search(req.free_text.replace("/bind", " "))
        code = m.group(1) if m else None
    if not code:
        if manager is not None:
            return Reply(f"你的账号已绑定到客户经理 {manager.name}（{manager.code}）。")
        return Reply("请发送：/bind 绑定码（向系统管理员要，24 小时内有效）")
    bound = redeem_bind_code(session, code, req.sender)
    if bound is None:
        return Reply("绑定码无效、已用过或已过期。请向系统管理员重新要一个。")
    return Reply(f"绑定成功：{bound.name}（{bound.code}）。现在可以问我客户的情况了。", list(EXAMPLES))
