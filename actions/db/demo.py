"""Deterministic, fictional demo CRM data (no real company's data).

`build(today, customers=N, seed=S)` returns plain row dicts; `load()` writes them in bulk.
The hand-written core customers cover all six tiers and all five lifecycle stages and always
include 华中钢铁集团有限公司 (华中钢铁/华钢, 制造业, 钻石) owned by the demo manager M001.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from actions.core.lifecycle import add_months
from actions.db.models import (
    Billing,
    Contact,
    Customer,
    Manager,
    Subscription,
    Ticket,
    Visit,
)

DEMO_MANAGER_CODE = "M001"
DEMO_TELEGRAM_ID = "10001"

MANAGERS = [
    # code, name, team, role, telegram id
    ("M000", "系统管理员", "政企客户部", "admin", "10000"),
    ("M001", "李强", "政企一部", "manager", DEMO_TELEGRAM_ID),
    ("M002", "王芳", "政企一部", "manager", "10002"),
    ("M003", "陈静", "政企二部", "manager", "10003"),
    ("M004", "赵磊", "政企一部", "lead", "10004"),
    ("M005", "刘洋", "政企二部", "lead", "10005"),
]


@dataclass
class Core:
    """A hand-written demo customer. `pattern` shapes its 24 months of billing."""

    code: str
    name: str
    aliases: list[str]
    industry: str
    importance: str
    manager: str
    level: int  # average monthly spend of the latest 3 months, yuan
    pattern: str  # growth|maturity|decline|churned|acquisition
    contract_days: int | None = 400
    competitors: list[str] = field(default_factory=list)
    products: list[tuple[str, int, int]] = field(default_factory=list)  # code, qty, monthly fee
    contacts: list[tuple[str, str, str, str]] = field(default_factory=list)
    tickets: list[tuple[int, str, str, str]] = field(default_factory=list)  # hours ago, kind, status, summary
    visits: list[tuple[int, str, str, str, int | None, str]] = field(default_factory=list)
    # visits: days ago, people json-ish "name|title|role", summary, next step, follow-up in days, products
    employees: int = 500
    address: str = ""
    since_months: int = 60


CORE: list[Core] = [
    Core(
        "C0001", "华中钢铁集团有限公司", ["华中钢铁", "华钢", "华中钢铁集团"], "制造业", "重要", "M001",
        582_000, "decline", contract_days=70, competitors=["移动"],
        products=[("MAN_LINE", 20, 260_000), ("CENTREX", 1200, 96_000), ("IDC", 8, 128_000),
                  ("VIDEO_SURVEILLANCE", 300, 98_000)],
        contacts=[("黄伟", "副总经理", "economic", "13800000001"),
                  ("周明", "信息中心主任", "technical", "13800000002"),
                  ("吴婷", "信息中心副主任", "coach", "13800000003"),
                  ("张建国", "总经理", "economic", "13800000004"),
                  ("王磊", "信息科科长", "user", "13800000005")],
        tickets=[(72, "投诉", "open", "城域网专线中断"), (400, "故障", "closed", "汇线通分机无法外呼")],
        visits=[(14, "周明|信息中心主任|technical", "谈双路由改造，周主任关心专线稳定性", "给双路由方案", 8, "MAN_LINE"),
                (45, "黄伟|副总经理|economic", "年度合作回顾，黄总提到移动在报价", "准备续约方案", None, "")],
        employees=12000, address="武汉市青山区冶金大道 1 号",
    ),
    Core(
        "C0002", "武汉市公安局东湖分局", ["东湖分局", "东湖公安"], "政府机关", "重要", "M001",
        265_000, "maturity", contract_days=300,
        products=[("VIDEO_SURVEILLANCE", 1500, 180_000), ("MAN_LINE", 12, 60_000), ("GROUP_VPN", 900, 25_000)],
        contacts=[("孙立", "科技信息化科科长", "technical", "13800000011"),
                  ("钱军", "副局长", "economic", "13800000012")],
        visits=[(20, "孙立|科技信息化科科长|technical", "全球眼扩容需求", "报扩容方案", 10, "VIDEO_SURVEILLANCE")],
        employees=800,
    ),
    Core(
        "C0003", "江城商业银行股份有限公司", ["江城银行", "江城商行"], "金融", "重要", "M001",
        120_000, "growth", contract_days=500, competitors=["联通"],
        products=[("SDH_LINE", 30, 66_000), ("INTERNET_LINE", 4, 20_000), ("HOTLINE_400", 2, 6_000)],
        contacts=[("马丽", "科技部总经理", "economic", "13800000021"),
                  ("郑浩", "网络运维主管", "technical", "13800000022"),
                  ("韩梅", "办公室主任", "coach", "13800000023")],
        visits=[(10, "郑浩|网络运维主管|technical", "新开 12 家网点，需要专线", "给网点专线报价", 4, "SDH_LINE|SDWAN")],
        employees=3500,
    ),
    Core(
        "C0004", "楚天大酒店有限公司", ["楚天酒店", "楚天大酒店"], "酒店", "一般", "M001",
        42_000, "maturity", contract_days=45,
        products=[("BIZ_BROADBAND", 2, 6_000), ("CENTREX", 380, 11_000), ("INTL_VOICE", 1, 4_000)],
        contacts=[("何静", "总经理", "economic", "13800000031"), ("罗斌", "工程部经理", "technical", "13800000032")],
        visits=[(50, "罗斌|工程部经理|technical", "客房宽带投诉多", "安排测速", -5, "BIZ_BROADBAND")],
        employees=300,
    ),
    Core(
        "C0005", "华中科技职业学院", ["华科职院", "华中职院"], "教育", "重要", "M001",
        18_500, "acquisition", since_months=4,
        products=[("INTERNET_LINE", 2, 12_000), ("CENTREX", 200, 6_000)],
        contacts=[("杨帆", "网络中心主任", "technical", "13800000041")],
        employees=900,
    ),
    Core(
        "C0006", "星河网咖连锁有限公司", ["星河网咖", "星河网吧"], "零售/网吧", "一般", "M001",
        6_000, "churned", contract_days=-60, competitors=["广电"],
        products=[("BIZ_BROADBAND", 5, 4_000)],
        contacts=[("林峰", "老板", "economic", "13800000051")],
        employees=40,
    ),
    Core(
        "C0007", "长江物流集团有限公司", ["长江物流"], "物流", "一般", "M001",
        95_000, "decline", contract_days=200, competitors=["移动", "联通"],
        products=[("IOT_CARD", 3000, 30_000), ("SDWAN", 25, 40_000), ("GROUP_SMS", 1, 3_000)],
        contacts=[("高远", "信息总监", "technical", "13800000061"), ("梁宏", "董事长", "economic", "13800000062")],
        tickets=[(60, "故障", "open", "部分车载物联网卡掉线")],
        visits=[(70, "高远|信息总监|technical", "物联网卡资费对比", "比价后回复", -20, "IOT_CARD")],
        employees=2200,
    ),
    Core(
        "C0008", "汉阳仁和医院", ["仁和医院", "汉阳仁和"], "医疗", "重要", "M001",
        230_000, "growth", contract_days=700,
        products=[("CENTREX", 1500, 45_000), ("INTERNET_LINE", 2, 30_000), ("IDC", 4, 60_000),
                  ("MAN_LINE", 6, 40_000)],
        contacts=[("冯敏", "信息科主任", "technical", "13800000071"), ("唐伟", "院长", "economic", "13800000072"),
                  ("邓雪", "信息科工程师", "coach", "13800000073")],
        visits=[(12, "冯敏|信息科主任|technical", "互联网医院上线，带宽吃紧", "出扩容方案", 6, "INTERNET_LINE|CLOUD_HOST")],
        employees=2600,
    ),
    Core(
        "C0009", "东湖高新投资集团有限公司", ["东湖高新", "东湖投资"], "政府机关", "重要", "M001",
        31_000, "maturity", contract_days=89,
        products=[("INTERNET_LINE", 2, 15_000), ("BIZ_MAIL", 300, 3_000)],
        contacts=[("谢宁", "综合部部长", "coach", "13800000081")],
        visits=[(100, "谢宁|综合部部长|coach", "了解园区网络规划", "", None, "")],
        employees=450,
    ),
    Core(
        "C0010", "东湖高新区管委会", ["东湖管委会", "高新区管委会"], "政府机关", "重要", "M001",
        56_000, "maturity", contract_days=91,
        products=[("MAN_LINE", 8, 32_000), ("VIDEO_CONF", 20, 8_000)],
        contacts=[("曹阳", "信息中心主任", "technical", "13800000091")],
        visits=[(25, "曹阳|信息中心主任|technical", "政务外网升级", "", None, "")],
        employees=600,
    ),
    # Other managers' customers (for access-control tests and team leads).
    Core(
        "C0101", "华中重工机械有限公司", ["华中重工"], "制造业", "一般", "M002",
        150_000, "maturity", contract_days=380, competitors=["联通"],
        products=[("INTERNET_LINE", 3, 25_000), ("CENTREX", 600, 20_000)],
        contacts=[("蒋涛", "设备部部长", "technical", "13800000101")],
        visits=[(20, "蒋涛|设备部部长|technical", "工厂 5G 专网试点意向", "安排演示", 3, "PRIVATE_5G")],
        employees=4000,
    ),
    Core(
        "C0102", "江夏区人民政府", ["江夏区政府"], "政府机关", "重要", "M002",
        88_000, "growth", contract_days=600,
        products=[("MAN_LINE", 10, 50_000), ("VIDEO_CONF", 30, 12_000)],
        contacts=[("彭伟", "大数据中心主任", "technical", "13800000111")],
        employees=1500,
    ),
    Core(
        "C0201", "光谷电子科技股份有限公司", ["光谷电子"], "制造业", "一般", "M003",
        720_000, "growth", contract_days=800, competitors=["移动"],
        products=[("IDC", 40, 420_000), ("INTERNET_LINE", 10, 120_000), ("CLOUD_HOST", 200, 90_000)],
        contacts=[("沈洁", "CIO", "economic", "13800000121")],
        visits=[(5, "沈洁|CIO|economic", "海外业务需要国际专线", "", None, "")],
        employees=8000,
    ),
    Core(
        "C0202", "荆楚农商银行", ["荆楚农商行", "荆楚银行"], "金融", "重要", "M003",
        9_800, "decline", contract_days=30,
        products=[("SDH_LINE", 2, 8_000)],
        contacts=[("吕强", "科技部经理", "technical", "13800000131")],
        employees=300,
    ),
]

# Generated customers: fictional names from parts.
_CITIES = "江汉 汉口 武昌 青山 洪山 黄陂 新洲 蔡甸 汉南 硚口 江岸 孝感 黄石 鄂州 咸宁 荆州 宜昌 襄阳 十堰 随州 荆门 仙桃 天门 潜江 恩施 黄冈 麻城 赤壁 大冶 枣阳".split()
_WORDS = "恒通 鑫达 宏远 华信 瑞丰 天成 博雅 嘉和 润泽 景明 金盛 万达 新元 汇丰 长虹 广源 德盛 荣华 永安 顺昌 联创 智达 安泰 正阳 同心 鼎盛 凯旋 盈科 东方 星光 明辉 远航 腾飞 丰泽 宝丰 中联 兴业 隆盛 佳和 世纪".split()
_SUFFIX = {
    "制造业": ["机械有限公司", "钢构有限公司", "电子有限公司", "汽车零部件有限公司", "化工有限公司"],
    "金融": ["村镇银行", "小额贷款有限公司", "证券营业部", "保险代理有限公司"],
    "医疗": ["医院", "中医院", "妇幼保健院", "口腔医院"],
    "教育": ["中学", "职业技术学校", "实验小学", "外国语学校"],
    "政府机关": ["街道办事处", "市场监督管理所", "税务分局", "自然资源所"],
    "酒店": ["大酒店", "商务酒店", "国际饭店", "度假村"],
    "物流": ["物流有限公司", "快运有限公司", "仓储有限公司", "供应链有限公司"],
    "零售/网吧": ["网咖", "连锁超市", "商贸有限公司", "电竞馆"],
}
_INDUSTRY_PRODUCTS = {
    "制造业": ["INTERNET_LINE", "CENTREX", "PRIVATE_5G", "IOT_CARD", "VIDEO_SURVEILLANCE", "MAN_LINE"],
    "金融": ["SDH_LINE", "INTERNET_LINE", "SDWAN", "HOTLINE_400", "VIDEO_CONF"],
    "医疗": ["CENTREX", "INTERNET_LINE", "IDC", "CLOUD_DESKTOP", "MAN_LINE"],
    "教育": ["INTERNET_LINE", "CENTREX", "VIDEO_SURVEILLANCE", "CLOUD_DESKTOP"],
    "政府机关": ["MAN_LINE", "VIDEO_CONF", "GROUP_VPN", "BIZ_MAIL", "VIDEO_SURVEILLANCE"],
    "酒店": ["BIZ_BROADBAND", "CENTREX", "INTL_VOICE", "HOTLINE_400"],
    "物流": ["IOT_CARD", "SDWAN", "GROUP_SMS", "GROUP_VPN"],
    "零售/网吧": ["BIZ_BROADBAND", "INTERNET_LINE", "VIDEO_SURVEILLANCE", "GROUP_SMS"],
}
_SURNAMES = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗".split()
_GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 涛 明 超 秀 霞 平 刚 辉 鹏 华 飞".split()
_TITLES = [
    ("总经理", "economic"), ("副总经理", "economic"), ("信息中心主任", "technical"),
    ("网络工程师", "user"), ("办公室主任", "coach"), ("采购部经理", "user"), ("IT主管", "technical"),
]
_LEVELS = [4_000, 8_500, 15_000, 26_000, 45_000, 70_000, 110_000, 160_000, 260_000, 420_000, 650_000]
_PATTERNS = ["maturity", "maturity", "growth", "decline", "acquisition", "churned"]


def _monthly_series(level: int, pattern: str, months: int, rng: random.Random) -> list[Decimal]:
    """Oldest first; the latest 3 average ≈ level, so the tier is known by construction."""
    prev_factor = {"growth": 1 / 1.25, "decline": 1 / 0.75, "maturity": 1.0}.get(pattern, 1.0)
    out = []
    for i in range(months):
        recent = i >= months - 3
        base = level if recent else level * prev_factor
        jitter = 1 + rng.uniform(-0.02, 0.02)
        out.append(Decimal(str(round(base * jitter, 2))))
    if pattern in ("growth", "decline", "maturity"):
        # Re-centre the latest three on `level` exactly so the tier is the intended one.
        last3 = out[-3:]
        shift = Decimal(level) - sum(last3) / 3
        out[-3:] = [(x + shift).quantize(Decimal("0.01")) for x in last3]
    return out


def build(today: date | None = None, customers: int = 60, seed: int = 7) -> dict[str, list[dict]]:
    """All demo rows as dicts keyed by table name; ids are assigned here."""
    today = today or date.today()
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {k: [] for k in (
        "managers", "customers", "billing", "subscriptions", "contacts", "tickets", "visits")}
    mid = {}
    for i, (code, name, team, role, tg) in enumerate(MANAGERS, 1):
        mid[code] = i
        rows["managers"].append(dict(id=i, code=code, name=name, team=team, role=role, telegram_user_id=tg))
    last_month = add_months(date(today.year, today.month, 1), -1)
    now = datetime.combine(today, time(9, 0))
    specs = list(CORE)
    used = {c.name for c in specs}
    n_generated = max(0, customers - len(CORE))
    industries = list(_SUFFIX)
    seq = 0
    while len(specs) < len(CORE) + n_generated:
        seq += 1
        industry = industries[seq % len(industries)]
        name = f"{rng.choice(_CITIES)}{rng.choice(_WORDS)}{rng.choice(_SUFFIX[industry])}"
        if name in used:
            continue
        used.add(name)
        pattern = rng.choice(_PATTERNS)
        level = int(rng.choice(_LEVELS) * rng.uniform(0.85, 1.15))
        prods = rng.sample(_INDUSTRY_PRODUCTS[industry], k=min(3, len(_INDUSTRY_PRODUCTS[industry])))
        specs.append(Core(
            code=f"G{seq:05d}", name=name, aliases=[], industry=industry,
            importance="重要" if industry in ("政府机关", "教育") or rng.random() < 0.1 else "一般",
            manager=rng.choice(["M001", "M002", "M003"]) if seq % 10 else "M001",
            level=level, pattern=pattern,
            contract_days=rng.randint(-30, 900),
            competitors=rng.sample(["移动", "联通", "广电"], k=1) if rng.random() < 0.3 else [],
            products=[(p, rng.randint(1, 20), max(500, level // 4)) for p in prods],
            contacts=[(f"{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}", *rng.choice(_TITLES), "")
                      for _ in range(rng.randint(1, 3))],
            tickets=[(rng.randint(1, 200), rng.choice(["故障", "投诉", "咨询"]), rng.choice(["open", "closed"]), "线路质量问题")]
            if rng.random() < 0.25 else [],
            visits=[(rng.randint(3, 200), "", "例行拜访", "", None, "")] if rng.random() < 0.7 else [],
            employees=rng.randint(20, 5000),
            since_months=4 if pattern == "acquisition" else rng.randint(12, 120),
        ))
    for cid, spec in enumerate(specs, 1):
        since = add_months(today, -spec.since_months)
        status = "churned" if spec.pattern == "churned" and not spec.code.startswith("C") and rng.random() < 0.5 else "active"
        if spec.code == "C0006":
            status = "active"  # churned by billing: nothing billed in the latest 2 months
        rows["customers"].append(dict(
            id=cid, code=spec.code, name=spec.name, aliases="|".join(spec.aliases),
            industry=spec.industry, importance=spec.importance, manager_id=mid[spec.manager],
            since=since,
            contract_end=None if spec.contract_days is None else today + timedelta(days=spec.contract_days),
            status=status, competitors="|".join(spec.competitors), employees=spec.employees,
            address=spec.address or f"湖北省武汉市{spec.name[:2]}路 {cid} 号", updated_at=now,
        ))
        n_months = min(24, spec.since_months) if spec.pattern == "acquisition" else 24
        series = _monthly_series(spec.level, spec.pattern, n_months, rng)
        if spec.pattern == "churned":
            series = series[:-3]  # stopped billing three months ago
            n_months -= 3
        first = add_months(last_month, -(len(series) - 1 + (3 if spec.pattern == "churned" else 0)))
        for k, amount in enumerate(series):
            rows["billing"].append(dict(customer_id=cid, month=add_months(first, k), amount=amount))
        for code, qty, fee in spec.products:
            rows["subscriptions"].append(dict(
                customer_id=cid, product=code, quantity=qty, monthly_fee=Decimal(fee),
                start=since, end=None))
        for name, title, role, phone in spec.contacts:
            rows["contacts"].append(dict(customer_id=cid, name=name, title=title, role=role, phone=phone))
        for hours, kind, st, summary in spec.tickets:
            rows["tickets"].append(dict(
                customer_id=cid, opened=now - timedelta(hours=hours), kind=kind, status=st, summary=summary))
        for n, (days, person, summary, next_step, follow, products) in enumerate(spec.visits):
            people = []
            if person:
                pn, pt, pr = person.split("|")
                people = [{"name": pn, "title": pt, "role": pr}]
            rows["visits"].append(dict(
                customer_id=cid, manager_id=mid[spec.manager], visit_date=today - timedelta(days=days),
                people=json.dumps(people, ensure_ascii=False), products=products, signals="",
                summary=summary, next_step=next_step,
                follow_up=None if follow is None else today + timedelta(days=follow),
                follow_up_done=False, dedupe_key=f"demo:{cid}:{n}", deleted=False,
                created_at=datetime.combine(today - timedelta(days=days), time(18, 0)),
                updated_at=datetime.combine(today - timedelta(days=days), time(18, 0))))
    return rows


TABLE_ORDER = (
    (Manager, "managers"),
    (Customer, "customers"),
    (Billing, "billing"),
    (Subscription, "subscriptions"),
    (Contact, "contacts"),
    (Ticket, "tickets"),
    (Visit, "visits"),
)


def is_empty(session: Session) -> bool:
    return not session.execute(select(func.count()).select_from(Customer)).scalar() and not (
        session.execute(select(func.count()).select_from(Manager)).scalar()
    )


def load(session: Session, rows: dict[str, list[dict]], chunk: int = 5000) -> dict[str, int]:
    counts = {}
    for model, name in TABLE_ORDER:
        data = rows.get(name, [])
        for i in range(0, len(data), chunk):
            session.execute(insert(model), data[i : i + chunk])
        counts[name] = len(data)
    _fix_sequences(session)
    return counts


def _fix_sequences(session: Session) -> None:
    """Explicit ids were inserted; move PostgreSQL sequences past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for table in ("managers", "customers"):
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 1))"))
