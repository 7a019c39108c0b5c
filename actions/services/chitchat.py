"""Handlers for greet, thanks, goodbye, help, out of scope, unclear and bind."""

from __future__ import annotations

from actions.core.reply import Button, Reply, Turn, payload
from actions.db.access import redeem_bind_code
from actions.understanding import commands as c

EXAMPLES = (
    Button("华中钢铁最近怎么样", payload("customer_status", customer_code="C0001")),
    Button("我的客户有哪些风险", payload("portfolio_alerts")),
    Button("今天要跟进谁", payload("my_followups")),
    Button("钻石客户有什么权益", payload("tier_policy", tier="钻石")),
)
CAPABILITIES = (
    "· 查客户：华钢最近怎么样 / 他们合同啥时候到期 / 谁拍板\n"
    "· 拜访前：明天去华中钢铁，帮我准备一下\n"
    "· 话术：给华钢讲讲5G专网 / 见他们CIO该问点啥\n"
    "· 套餐与折扣：华钢适合什么套餐 / 能打几折\n"
    "· 记拜访：刚见完周主任，他说方案可以，下周三前发报价\n"
    "· 待办与预警：今天要跟进谁 / 报价发了 / 哪些合同快到期了"
)


def examples(turn: Turn) -> list[Button]:
    """The example buttons; the demo customer's only for the demo data set's managers."""
    return [b for b in EXAMPLES if "C0001" not in b.payload or turn.manager.code == "M001"]


def greet(turn: Turn, cmd: c.Greet) -> Reply:
    return Reply(f"{turn.manager.name}你好！我是大客户经理助手，可以帮你：\n{CAPABILITIES}", examples(turn))


def help_(turn: Turn, cmd: c.Help) -> Reply:
    return Reply(f"直接用大白话问就行，客户名写简称、拼音首字母都可以：\n{CAPABILITIES}", examples(turn))


def thanks(turn: Turn, cmd: c.Thanks) -> Reply:
    return Reply("不客气，有需要随时找我。")


def goodbye(turn: Turn, cmd: c.Goodbye) -> Reply:
    return Reply("好的，拜访顺利！记得走完客户把情况发给我记一下。")


def out_of_scope(turn: Turn, cmd: c.OutOfScope) -> Reply:
    return Reply("这个我帮不上忙，我只管大客户的事：查客户、拜访准备、话术、套餐折扣、拜访记录和跟进。", examples(turn))


def unclear(turn: Turn, cmd: c.Unclear) -> Reply:
    return Reply("抱歉，这句我没太明白。我能帮你查客户、准备拜访、出话术和套餐、记拜访和跟进。换个说法，或者点下面的例子：",
                 examples(turn))


def bind(turn: Turn, cmd: c.Bind) -> Reply:
    manager = turn.manager
    if not cmd.code:
        if manager is not None:
            return Reply(f"你的账号已绑定到客户经理 {manager.name}（{manager.code}）。")
        return Reply("请发送：/bind 绑定码（向系统管理员要，24 小时内有效）")
    bound = redeem_bind_code(turn.session, cmd.code, turn.sender)
    if bound is None:
        return Reply("绑定码无效、已用过或已过期。请向系统管理员重新要一个。")
    return Reply(f"绑定成功：{bound.name}（{bound.code}）。现在可以问我客户的情况了。\n{CAPABILITIES}")
