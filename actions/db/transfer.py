"""`kam import` / `kam export`: the documented CSV/xlsx schema (README「导入格式」).

Import is all-or-nothing: the caller runs it inside one transaction, and the first bad row
raises ImportFailure naming the file, the line and the reason. Re-importing the same files is
idempotent: rows are upserted by code (managers, customers) or by a natural key.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from actions.db.models import (
    Billing,
    Contact,
    Customer,
    Manager,
    Subscription,
    Ticket,
    Visit,
)
from actions.kb.loader import lookup_product

SCHEMA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # table: (required columns, optional columns)
    "managers": (("code", "name"), ("telegram_user_id", "team", "role")),
    "customers": (
        ("code", "name"),
        ("aliases", "industry", "importance", "manager_code", "since", "contract_end", "status",
         "competitors", "employees", "address"),
    ),
    "billing": (("customer_code", "month", "amount"), ()),
    "subscriptions": (("customer_code", "product"), ("quantity", "monthly_fee", "start", "end")),
    "contacts": (("customer_code", "name"), ("title", "role", "phone")),
    "tickets": (("customer_code", "opened", "kind"), ("status", "summary")),
    "visits": (
        ("customer_code", "date"),
        ("manager_code", "summary", "next_step", "follow_up", "people", "products", "signals"),
    ),
}
ORDER = tuple(SCHEMA)

_ROLE = {"manager": "manager", "lead": "lead", "admin": "admin",
         "客户经理": "manager", "部门经理": "lead", "管理员": "admin"}
_CUTE = {"coach": "coach", "user": "user", "technical": "technical", "economic": "economic",
         "教练": "coach", "用户": "user", "技术把关者": "technical", "技术把关": "technical",
         "关键决策者": "economic", "决策者": "economic"}
_IMPORTANCE = {"重要": "重要", "一般": "一般", "重要大客户": "重要", "一般大客户": "一般"}
_STATUS = {"active": "active", "churned": "churned", "在网": "active", "离网": "churned"}
_KIND = {"故障": "故障", "投诉": "投诉", "咨询": "咨询"}
_TSTATUS = {"open": "open", "closed": "closed", "未结": "open", "已结": "closed"}


class ImportFailure(ValueError):
    def __init__(self, file: str, line: int | None, reason: str):
        where = f"{file} 第 {line} 行" if line else file
        super().__init__(f"{where}：{reason}")
        self.file, self.line, self.reason = file, line, reason


@dataclass
class Row:
    file: str
    line: int
    data: dict[str, str]

    def get(self, key: str) -> str:
        return (self.data.get(key) or "").strip()

    def fail(self, reason: str) -> ImportFailure:
        return ImportFailure(self.file, self.line, reason)


# ---------------------------------------------------------------- reading
def read_source(path: Path) -> dict[str, list[Row]]:
    path = Path(path)
    if not path.exists():
        raise ImportFailure(str(path), None, "路径不存在")
    if path.is_dir():
        tables = {}
        for name in ORDER:
            f = path / f"{name}.csv"
            if f.exists():
                tables[name] = _read_csv(f)
        if not tables:
            raise ImportFailure(str(path), None, f"目录里没有可导入的 CSV（{', '.join(n + '.csv' for n in ORDER)}）")
        return tables
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv" and path.stem in SCHEMA:
        return {path.stem: _read_csv(path)}
    raise ImportFailure(str(path), None, "只支持 CSV 文件夹、单个 <表名>.csv 或 .xlsx 工作簿")


def _read_csv(path: Path) -> list[Row]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ImportFailure(path.name, None, f"不是 UTF-8 编码（{e.reason}）") from e
    reader = csv.DictReader(io.StringIO(text))
    _check_header(path.name, path.stem, reader.fieldnames or [])
    return [
        Row(path.name, reader.line_num, {(k or "").strip(): (v or "") for k, v in rec.items() if k})
        for rec in reader
        if any((v or "").strip() for v in rec.values() if isinstance(v, str))
    ]


def _read_xlsx(path: Path) -> dict[str, list[Row]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any parse failure is a bad file
        raise ImportFailure(path.name, None, f"无法读取 xlsx：{e}") from e
    tables = {}
    for name in ORDER:
        if name not in wb.sheetnames:
            continue
        ws = wb[name]
        it = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(it, [])]
        file = f"{path.name}[{name}]"
        _check_header(file, name, header)
        rows = []
        for i, values in enumerate(it, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            rows.append(Row(file, i, {h: _cell(v) for h, v in zip(header, values, strict=False) if h}))
        tables[name] = rows
    if not tables:
        raise ImportFailure(path.name, None, f"工作簿里没有这些工作表：{', '.join(ORDER)}")
    return tables


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    if isinstance(v, date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _check_header(file: str, table: str, header: Iterable[str]) -> None:
    missing = [c for c in SCHEMA[table][0] if c not in set(header)]
    if missing:
        raise ImportFailure(file, 1, f"缺少必需的列：{', '.join(missing)}")


# ---------------------------------------------------------------- parsing helpers
def _date(row: Row, key: str, required: bool = False) -> date | None:
    value = row.get(key)
    if not value:
        if required:
            raise row.fail(f"{key} 不能为空")
        return None
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        raise row.fail(f"{key} 应为 YYYY-MM-DD（实际：{value}）") from None


def _month(row: Row) -> date:
    value = row.get("month")
    for fmt in ("%Y-%m", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date().replace(day=1)
        except ValueError:
            continue
    raise row.fail(f"month 应为 YYYY-MM（实际：{value or '空'}）")


def _datetime(row: Row, key: str) -> datetime:
    value = row.get(key)
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise row.fail(f"{key} 应为 YYYY-MM-DD HH:MM（实际：{value or '空'}）")


def _money(row: Row, key: str, default: str | None = None) -> Decimal:
    value = row.get(key).replace(",", "") or default
    if value is None:
        raise row.fail(f"{key} 不能为空")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise row.fail(f"{key} 应为金额数字（实际：{value}）") from None
    if amount < 0 or not amount.is_finite():
        raise row.fail(f"{key} 不能为负数（实际：{value}）")
    return amount.quantize(Decimal("0.01"))


def _int(row: Row, key: str, default: int | None = None) -> int | None:
    value = row.get(key)
    if not value:
        return default
    try:
        number = int(Decimal(value))
    except (InvalidOperation, ValueError):
        raise row.fail(f"{key} 应为整数（实际：{value}）") from None
    if number < 0:
        raise row.fail(f"{key} 不能为负数（实际：{value}）")
    return number


def _choice(row: Row, key: str, mapping: dict[str, str], default: str) -> str:
    value = row.get(key)
    if not value:
        return default
    if value not in mapping:
        allowed = "、".join(sorted({k for k, v in mapping.items() if k == v}))
        raise row.fail(f"{key} 应为 {allowed} 之一（实际：{value}）")
    return mapping[value]


def _bars(row: Row, key: str) -> str:
    return "|".join(p.strip() for p in row.get(key).split("|") if p.strip())


def natural_key(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]


# ---------------------------------------------------------------- import
class _Importer:
    def __init__(self, session: Session):
        self.s = session
        self.managers = {m.code: m for m in session.execute(select(Manager)).scalars()}
        self.customers = {c.code: c for c in session.execute(select(Customer)).scalars()}
        self.counts: dict[str, dict[str, int]] = {}

    def count(self, table: str, created: bool) -> None:
        c = self.counts.setdefault(table, {"新增": 0, "更新": 0})
        c["新增" if created else "更新"] += 1

    def customer(self, row: Row) -> Customer:
        code = row.get("customer_code")
        cust = self.customers.get(code)
        if cust is None:
            raise row.fail(f"客户编码 {code or '空'} 不存在（先在 customers 里导入）")
        return cust

    def manager(self, row: Row, key: str = "manager_code", required: bool = False) -> Manager | None:
        code = row.get(key)
        if not code:
            if required:
                raise row.fail(f"{key} 不能为空")
            return None
        m = self.managers.get(code)
        if m is None:
            raise row.fail(f"客户经理编码 {code} 不存在（先在 managers 里导入）")
        return m

    def managers_(self, rows: list[Row]) -> None:
        seen_tg: dict[str, str] = {}
        for row in rows:
            code, tg = row.get("code"), row.get("telegram_user_id") or None
            if tg:
                if not tg.lstrip("-").isdigit():
                    raise row.fail(f"telegram_user_id 应为数字（实际：{tg}）")
                if tg in seen_tg and seen_tg[tg] != code:
                    raise row.fail(f"telegram_user_id {tg} 与 {seen_tg[tg]} 重复")
                seen_tg[tg] = code
            m = self.managers.get(code)
            created = m is None
            if created:
                m = Manager(code=code)
                self.s.add(m)
                self.managers[code] = m
            m.name = row.get("name")
            m.team = row.get("team")
            m.role = _choice(row, "role", _ROLE, "manager")
            m.telegram_user_id = tg
            self.count("managers", created)
        self.s.flush()

    def customers_(self, rows: list[Row]) -> None:
        for row in rows:
            code = row.get("code")
            c = self.customers.get(code)
            created = c is None
            if created:
                c = Customer(code=code)
                self.s.add(c)
                self.customers[code] = c
            c.name = row.get("name")
            c.aliases = _bars(row, "aliases")
            c.industry = row.get("industry")
            c.importance = _choice(row, "importance", _IMPORTANCE, "一般")
            m = self.manager(row)
            c.manager_id = m.id if m else None
            c.since = _date(row, "since")
            c.contract_end = _date(row, "contract_end")
            c.status = _choice(row, "status", _STATUS, "active")
            c.competitors = _bars(row, "competitors")
            c.employees = _int(row, "employees")
            c.address = row.get("address")
            c.updated_at = datetime.utcnow()
            self.count("customers", created)
        self.s.flush()

    def billing_(self, rows: list[Row]) -> None:
        existing = {
            (cid, m): b
            for b, cid, m in self.s.execute(select(Billing, Billing.customer_id, Billing.month)).all()
        }
        for row in rows:
            cust, month, amount = self.customer(row), _month(row), _money(row, "amount")
            b = existing.get((cust.id, month))
            if b is None:
                b = Billing(customer_id=cust.id, month=month, amount=amount)
                self.s.add(b)
                existing[(cust.id, month)] = b
                self.count("billing", True)
            else:
                b.amount = amount
                self.count("billing", False)

    def subscriptions_(self, rows: list[Row]) -> None:
        existing = {(s.customer_id, s.product): s for s in self.s.execute(select(Subscription)).scalars()}
        for row in rows:
            cust = self.customer(row)
            product = lookup_product(row.get("product"))
            if product is None:
                raise row.fail(f"产品「{row.get('product')}」不在产品目录里（写编码或名称，如 MAN_LINE / 城域网专线）")
            s = existing.get((cust.id, product.code))
            created = s is None
            if created:
                s = Subscription(customer_id=cust.id, product=product.code)
                self.s.add(s)
                existing[(cust.id, product.code)] = s
            s.quantity = _int(row, "quantity", 1)
            s.monthly_fee = _money(row, "monthly_fee", "0")
            s.start, s.end = _date(row, "start"), _date(row, "end")
            self.count("subscriptions", created)

    def contacts_(self, rows: list[Row]) -> None:
        existing = {(c.customer_id, c.name): c for c in self.s.execute(select(Contact)).scalars()}
        for row in rows:
            cust = self.customer(row)
            key = (cust.id, row.get("name"))
            c = existing.get(key)
            created = c is None
            if created:
                c = Contact(customer_id=cust.id, name=row.get("name"))
                self.s.add(c)
                existing[key] = c
            c.title = row.get("title")
            c.role = _choice(row, "role", _CUTE, "user")
            c.phone = row.get("phone")
            self.count("contacts", created)

    def tickets_(self, rows: list[Row]) -> None:
        existing = {(t.customer_id, t.opened, t.kind): t for t in self.s.execute(select(Ticket)).scalars()}
        for row in rows:
            cust = self.customer(row)
            opened = _datetime(row, "opened")
            kind = _choice(row, "kind", _KIND, "")
            if not kind:
                raise row.fail("kind 不能为空（故障、投诉 或 咨询）")
            t = existing.get((cust.id, opened, kind))
            created = t is None
            if created:
                t = Ticket(customer_id=cust.id, opened=opened, kind=kind)
                self.s.add(t)
                existing[(cust.id, opened, kind)] = t
            t.status = _choice(row, "status", _TSTATUS, "open")
            t.summary = row.get("summary")
            self.count("tickets", created)

    def visits_(self, rows: list[Row]) -> None:
        for row in rows:
            cust = self.customer(row)
            m = self.manager(row)
            visit_date = _date(row, "date", required=True)
            summary = row.get("summary")
            key = "imp:" + natural_key(cust.code, visit_date, summary)[:36]
            v = self.s.execute(select(Visit).where(Visit.dedupe_key == key)).scalar_one_or_none()
            created = v is None
            if created:
                v = Visit(customer_id=cust.id, dedupe_key=key, visit_date=visit_date,
                          created_at=datetime.utcnow(), deleted=False, follow_up_done=False)
                self.s.add(v)
            v.manager_id = m.id if m else None
            v.summary = summary
            v.next_step = row.get("next_step")
            v.follow_up = _date(row, "follow_up")
            v.people = _people(row)
            v.products = _bars(row, "products")
            v.signals = _bars(row, "signals")
            v.updated_at = datetime.utcnow()
            self.count("visits", created)


def _people(row: Row) -> str:
    """`people` column: 姓名(职务)|姓名 …, or a JSON list as exported."""
    value = row.get("people")
    if not value:
        return "[]"
    if value.startswith("["):
        try:
            return json.dumps(json.loads(value), ensure_ascii=False)
        except ValueError:
            raise row.fail("people 不是合法的 JSON 列表") from None
    people = []
    for part in value.split("|"):
        part = part.strip()
        if not part:
            continue
        name, _, title = part.partition("(")
        people.append({"name": name.strip(), "title": title.rstrip(")").strip(), "role": ""})
    return json.dumps(people, ensure_ascii=False)


def import_tables(session: Session, tables: dict[str, list[Row]], replace: bool = False) -> dict:
    """Apply parsed tables inside the caller's transaction; raises ImportFailure on a bad row."""
    if replace:
        for model in (Visit, Ticket, Contact, Subscription, Billing, Customer):
            session.execute(delete(model))
        session.flush()
    imp = _Importer(session)
    for name in ORDER:
        if name in tables:
            getattr(imp, f"{name}_")(tables[name])
            session.flush()
    return imp.counts


# ---------------------------------------------------------------- export
def export_rows(session: Session, table: str) -> tuple[list[str], list[list]]:
    if table not in SCHEMA:
        raise ValueError(f"没有这张表：{table}（可选：{', '.join(ORDER)}）")
    req, opt = SCHEMA[table]
    cols = list(req + opt)
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    mcodes = dict(session.execute(select(Manager.id, Manager.code)).all())
    rows: list[list] = []

    def fmt(v):
        if v is None:
            return ""
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M")
        if isinstance(v, date):
            return v.strftime("%Y-%m-%d")
        return v

    if table == "managers":
        for m in session.execute(select(Manager).order_by(Manager.code)).scalars():
            rows.append([m.code, m.name, m.telegram_user_id, m.team, m.role])
    elif table == "customers":
        for c in session.execute(select(Customer).order_by(Customer.code)).scalars():
            rows.append([c.code, c.name, c.aliases, c.industry, c.importance, mcodes.get(c.manager_id, ""),
                         c.since, c.contract_end, c.status, c.competitors, c.employees, c.address])
    elif table == "billing":
        for b in session.execute(select(Billing).order_by(Billing.customer_id, Billing.month)).scalars():
            rows.append([codes[b.customer_id], b.month.strftime("%Y-%m"), f"{Decimal(b.amount):.2f}"])
    elif table == "subscriptions":
        for s in session.execute(select(Subscription).order_by(Subscription.id)).scalars():
            rows.append([codes[s.customer_id], s.product, s.quantity, f"{Decimal(s.monthly_fee):.2f}", s.start, s.end])
    elif table == "contacts":
        for c in session.execute(select(Contact).order_by(Contact.id)).scalars():
            rows.append([codes[c.customer_id], c.name, c.title, c.role, c.phone])
    elif table == "tickets":
        for t in session.execute(select(Ticket).order_by(Ticket.id)).scalars():
            rows.append([codes[t.customer_id], t.opened, t.kind, t.status, t.summary])
    elif table == "visits":
        cols = ["customer_code", "date", "manager_code", "summary", "next_step", "follow_up",
                "people", "products", "signals", "follow_up_done", "id"]
        for v in session.execute(
            select(Visit).where(Visit.deleted.is_(False)).order_by(Visit.visit_date, Visit.id)
        ).scalars():
            rows.append([codes[v.customer_id], v.visit_date, mcodes.get(v.manager_id, ""), v.summary,
                         v.next_step, v.follow_up, v.people, v.products, v.signals,
                         "yes" if v.follow_up_done else "no", v.id])
    return cols, [[fmt(x) for x in r] for r in rows]


def write_csv(cols: list[str], rows: list[list], out) -> None:
    writer = csv.writer(out)
    writer.writerow(cols)
    writer.writerows(rows)


def write_xlsx(sheets: dict[str, tuple[list[str], list[list]]], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, (cols, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(cols)
        for i, r in enumerate(rows, start=2):
            for j, value in enumerate(r, start=1):
                cell = ws.cell(row=i, column=j, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text stays text: no formula injection, verbatim on re-import
    wb.save(path)
