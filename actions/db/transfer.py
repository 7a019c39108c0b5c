"""`kam import` / `kam export`: the documented CSV/xlsx schema (README「导入格式」).

Import is all-or-nothing: the caller runs it inside one transaction, and the first bad row
raises ImportFailure naming the file, the line and the reason. Rows are matched by a stable key
(code for managers and customers, a natural key for billing, subscriptions, contacts and
tickets, `key` for visits), so re-importing the same files, or an export, changes nothing.

An import never destroys what it was not told about:
- a column that is absent from the file leaves that field as it is;
- an empty cell leaves that field as it is;
- only the explicit marker `(清空)` (or `（清空）`) clears a field, and only a field that may be
  empty (a name, a code or a choice such as role cannot be cleared);
- a new row gets the documented default for every column it does not give.

`import_tables` returns an ImportReport: per table counts and, row by row, what changed
(`kam import --dry-run` prints it and rolls back).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
    # table: (required columns, optional columns); the export writes exactly these, in this order
    "managers": (("code", "name"), ("telegram_user_id", "team", "role", "wecom_user_id")),
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
        ("manager_code", "summary", "next_step", "follow_up", "people", "products", "signals",
         "follow_up_done", "follow_up_outcome", "follow_up_closed_at", "follow_up_note", "key"),
    ),
}
ORDER = tuple(SCHEMA)
CLEAR_MARKERS = ("(清空)", "（清空）")
SECRET_FIELDS = {"phone"}  # a dry run says that these changed, never the values

_ROLE = {"manager": "manager", "lead": "lead", "admin": "admin",
         "客户经理": "manager", "部门经理": "lead", "管理员": "admin"}
_CUTE = {"coach": "coach", "user": "user", "technical": "technical", "economic": "economic",
         "教练": "coach", "用户": "user", "技术把关者": "technical", "技术把关": "technical",
         "关键决策者": "economic", "决策者": "economic"}
_IMPORTANCE = {"重要": "重要", "一般": "一般", "重要大客户": "重要", "一般大客户": "一般"}
_STATUS = {"active": "active", "churned": "churned", "在网": "active", "离网": "churned"}
_KIND = {"故障": "故障", "投诉": "投诉", "咨询": "咨询"}
_TSTATUS = {"open": "open", "closed": "closed", "未结": "open", "已结": "closed"}
_OUTCOME = {"done": "done", "dropped": "dropped", "已完成": "done", "完成": "done", "放弃": "dropped",
            "不跟了": "dropped"}
_BOOL = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False,
         "是": True, "否": False}


class ImportFailure(ValueError):
    def __init__(self, file: str, line: int | None, reason: str):
        where = f"{file} 第 {line} 行" if line else file
        super().__init__(f"{where}：{reason}")
        self.file, self.line, self.reason = file, line, reason


class _Marker:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


KEEP = _Marker("KEEP")  # column absent or cell empty: the field stays as it is
CLEAR = _Marker("CLEAR")  # the explicit (清空) marker


@dataclass
class Row:
    file: str
    line: int
    data: dict[str, str]
    escaped: bool = False  # a CSV cell: undo the export's formula guard (see escape_cell)

    def text(self, key: str) -> str:
        value = (self.data.get(key) or "").strip()
        return unescape_cell(value) if self.escaped else value

    def get(self, key: str) -> str:
        value = self.text(key)
        return "" if value in CLEAR_MARKERS else value

    def has(self, key: str) -> bool:
        return key in self.data

    def state(self, key: str) -> _Marker | str:
        """KEEP (absent or empty), CLEAR (the explicit marker) or the text (trimmed)."""
        value = self.text(key)
        if not value:
            return KEEP
        if value in CLEAR_MARKERS:
            return CLEAR
        return value

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
        Row(path.name, reader.line_num, {(k or "").strip(): (v or "") for k, v in rec.items() if k}, escaped=True)
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


# ---------------------------------------------------------------- formula-safe CSV cells
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection). The CSV
# export puts an apostrophe in front (the spreadsheet's own "this is text" mark, not shown), and
# the CSV import takes exactly one off again, so export → import gives back the same text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")


def escape_cell(value: str) -> str:
    if value.startswith(FORMULA_STARTS) or _ESCAPED.match(value):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    return value[1:] if _ESCAPED.match(value) else value


# ---------------------------------------------------------------- parsing helpers
def _parse_date(row: Row, key: str, value: str) -> date:
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        raise row.fail(f"{key} 应为 YYYY-MM-DD（实际：{value}）") from None


def _date(row: Row, key: str, required: bool = False) -> date | None:
    value = row.get(key)
    if not value:
        if required:
            raise row.fail(f"{key} 不能为空")
        return None
    return _parse_date(row, key, value)


def _month(row: Row) -> date:
    value = row.get("month")
    for fmt in ("%Y-%m", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date().replace(day=1)
        except ValueError:
            continue
    raise row.fail(f"month 应为 YYYY-MM（实际：{value or '空'}）")


def _parse_datetime(row: Row, key: str, value: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise row.fail(f"{key} 应为 YYYY-MM-DD HH:MM（实际：{value or '空'}）")


def _datetime(row: Row, key: str) -> datetime:
    return _parse_datetime(row, key, row.get(key))


def _parse_money(row: Row, key: str, value: str) -> Decimal:
    value = value.replace(",", "")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise row.fail(f"{key} 应为金额数字（实际：{value}）") from None
    if not amount.is_finite() or amount < 0:
        raise row.fail(f"{key} 不能为负数（实际：{value}）")
    return amount.quantize(Decimal("0.01"))


def _money(row: Row, key: str) -> Decimal:
    value = row.get(key)
    if not value:
        raise row.fail(f"{key} 不能为空")
    return _parse_money(row, key, value)


def _parse_int(row: Row, key: str, value: str) -> int:
    try:
        number = int(Decimal(value))
    except (InvalidOperation, ValueError):
        raise row.fail(f"{key} 应为整数（实际：{value}）") from None
    if number < 0:
        raise row.fail(f"{key} 不能为负数（实际：{value}）")
    return number


def _chooser(mapping: dict[str, str]) -> Callable[[Row, str, str], str]:
    def parse(row: Row, key: str, value: str) -> str:
        if value not in mapping:
            allowed = "、".join(sorted({k for k, v in mapping.items() if k == v}))
            raise row.fail(f"{key} 应为 {allowed} 之一（实际：{value}）")
        return mapping[value]

    return parse


def _parse_bool(row: Row, key: str, value: str) -> bool:
    flag = _BOOL.get(value.lower())
    if flag is None:
        raise row.fail(f"{key} 应为 yes 或 no（实际：{value}）")
    return flag


def _parse_bars(row: Row, key: str, value: str) -> str:
    return "|".join(p.strip() for p in value.split("|") if p.strip())


def _parse_text(row: Row, key: str, value: str) -> str:
    return value


def _parse_people(row: Row, key: str, value: str) -> str:
    """`people` column: 姓名(职务)|姓名 …, or a JSON list as exported."""
    if value.startswith("["):
        try:
            people = json.loads(value)
        except ValueError:
            raise row.fail("people 不是合法的 JSON 列表") from None
        if not isinstance(people, list):
            raise row.fail("people 不是合法的 JSON 列表")
        return json.dumps(people, ensure_ascii=False)
    people = []
    for part in value.split("|"):
        part = part.strip()
        if not part:
            continue
        name, _, title = part.partition("(")
        people.append({"name": name.strip(), "title": title.rstrip(")").strip(), "role": ""})
    return json.dumps(people, ensure_ascii=False)


def _parse_telegram(row: Row, key: str, value: str) -> str:
    if not value.lstrip("-").isdigit():
        raise row.fail(f"{key} 应为数字（实际：{value}）")
    return value


def natural_key(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Field:
    """One optional column: how to parse it, what a new row gets, and whether (清空) may clear it."""

    column: str
    attr: str
    parse: Callable[[Row, str, str], object]
    default: object = ""
    clearable: bool = True


# ---------------------------------------------------------------- the report
@dataclass
class RowChange:
    table: str
    file: str
    line: int
    label: str  # the row's key, as a person reads it
    status: str  # 新增 | 更新 | 未变 | 跳过
    changes: list[tuple[str, object, object]] = field(default_factory=list)
    note: str = ""

    def describe(self) -> str:
        head = f"{self.file} 第 {self.line} 行 {self.label}：{self.status}"
        if self.note:
            head += f"（{self.note}）"
        if self.status != "更新":
            return head
        parts = []
        for name, old, new in self.changes:
            if name in SECRET_FIELDS:
                parts.append(f"{name} 已变更（不显示号码）")
            else:
                parts.append(f"{name}「{_show(old)}」→「{_show(new)}」")
        return head + " " + "，".join(parts)


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).replace("\n", "⏎")
    return text if len(text) <= 40 else text[:39] + "…"


@dataclass
class ImportReport:
    rows: list[RowChange] = field(default_factory=list)
    replaced: bool = False

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.rows:
            c = out.setdefault(r.table, {})
            c[r.status] = c.get(r.status, 0) + 1
        return out

    @property
    def changed(self) -> list[RowChange]:
        return [r for r in self.rows if r.status in ("新增", "更新")]


def _same(old, new) -> bool:
    if isinstance(old, Decimal | float | int) and isinstance(new, Decimal) and not isinstance(old, bool):
        return Decimal(str(old)) == new
    return old == new


# ---------------------------------------------------------------- import
class _Importer:
    def __init__(self, session: Session, report: ImportReport):
        self.s = session
        self.report = report
        self.managers = {m.code: m for m in session.execute(select(Manager)).scalars()}
        self.customers = {c.code: c for c in session.execute(select(Customer)).scalars()}

    # -- helpers
    def record(self, table: str, row: Row, label: str, created: bool, changes: list, note: str = "") -> RowChange:
        status = "新增" if created else ("更新" if changes else "未变")
        rc = RowChange(table, row.file, row.line, label, status, changes, note)
        self.report.rows.append(rc)
        return rc

    @staticmethod
    def put(obj, attr: str, value, changes: list, name: str | None = None) -> None:
        """Set a field that the row gives; remember it when it differs."""
        old = getattr(obj, attr)
        if _same(old, value):
            return
        setattr(obj, attr, value)
        changes.append((name or attr, old, value))

    def fields(self, obj, row: Row, fields: Iterable[Field], created: bool, changes: list) -> None:
        """Apply the optional columns by the rule: absent or empty → keep, (清空) → clear, else set."""
        for f in fields:
            state = row.state(f.column)
            if state is KEEP:
                if created:
                    setattr(obj, f.attr, f.default)
                continue
            if state is CLEAR:
                if not f.clearable:
                    raise row.fail(f"{f.column} 不能清空")
                value = f.default
            else:
                value = f.parse(row, f.column, state)
            if created:
                setattr(obj, f.attr, value)
            else:
                self.put(obj, f.attr, value, changes, f.column)

    def customer(self, row: Row) -> Customer:
        code = row.get("customer_code")
        cust = self.customers.get(code)
        if cust is None:
            raise row.fail(f"客户编码 {code or '空'} 不存在（先在 customers 里导入）")
        return cust

    def _manager_id(self, row: Row, key: str, value: str) -> int:
        m = self.managers.get(value)
        if m is None:
            raise row.fail(f"客户经理编码 {value} 不存在（先在 managers 里导入）")
        return m.id

    # -- tables
    def managers_(self, rows: list[Row]) -> None:
        ids = ("telegram_user_id", "wecom_user_id")
        plain = (Field("team", "team", _parse_text, ""),
                 Field("role", "role", _chooser(_ROLE), "manager", clearable=False))
        wanted: dict[str, dict[str, object]] = {}  # code → id column → KEEP/CLEAR/value
        seen: dict[tuple[str, str], str] = {}
        for row in rows:
            code = row.get("code")
            if not code:
                raise row.fail("code 不能为空")
            if not row.get("name"):
                raise row.fail("name 不能为空")
            for col in ids:
                state = row.state(col)
                if isinstance(state, str):
                    state = _parse_telegram(row, col, state) if col == "telegram_user_id" else state
                    if len(state) > 64:
                        raise row.fail(f"{col} 太长（最多 64 个字符）")
                    other = seen.get((col, state))
                    if other and other != code:
                        raise row.fail(f"{col} {state} 与 {other} 重复")
                    seen[(col, state)] = code
                wanted.setdefault(code, {})[col] = state
        # An id may move from one manager to another only when the file takes it from the first.
        for col in ids:
            for m in self.managers.values():
                held = getattr(m, col)
                if not held:
                    continue
                claimant = seen.get((col, held))
                if claimant is None or claimant == m.code:
                    continue
                own = wanted.get(m.code, {}).get(col, KEEP)
                if own is KEEP or own == held:
                    row = next(r for r in rows if r.get("code") == claimant)
                    raise row.fail(f"{col} {held} 已绑定给 {m.code}（{m.name}）；要转给 {claimant}，"
                                   f"请在同一个文件里把 {m.code} 的 {col} 改掉或写 (清空)")
        pending_ids: list[tuple[Manager, str, object, list]] = []
        for row in rows:
            code = row.get("code")
            m = self.managers.get(code)
            created = m is None
            changes: list = []
            if created:
                m = Manager(code=code, name=row.get("name"))
                self.s.add(m)
                self.managers[code] = m
            else:
                self.put(m, "name", row.get("name"), changes)
            self.fields(m, row, plain, created, changes)
            for col in ids:
                state = wanted[code][col]
                if state is KEEP:
                    continue
                value = None if state is CLEAR else state
                if created:
                    setattr(m, col, None)  # set after every old holder let go
                if not _same(getattr(m, col), value):
                    changes.append((col, getattr(m, col), value))
                    pending_ids.append((m, col, value, changes))
            self.record("managers", row, code, created, changes)
        self.s.flush()
        # Two steps, so that moving an id from one manager to another never trips the unique index.
        for m, col, _value, _ in pending_ids:
            setattr(m, col, None)
        self.s.flush()
        for m, col, value, _ in pending_ids:
            setattr(m, col, value)
        self.s.flush()

    def customers_(self, rows: list[Row]) -> None:
        fields = (
            Field("aliases", "aliases", _parse_bars, ""),
            Field("industry", "industry", _parse_text, ""),
            Field("importance", "importance", _chooser(_IMPORTANCE), "一般", clearable=False),
            Field("manager_code", "manager_id", self._manager_id, None),
            Field("since", "since", _parse_date, None),
            Field("contract_end", "contract_end", _parse_date, None),
            Field("status", "status", _chooser(_STATUS), "active", clearable=False),
            Field("competitors", "competitors", _parse_bars, ""),
            Field("employees", "employees", _parse_int, None),
            Field("address", "address", _parse_text, ""),
        )
        for row in rows:
            code, name = row.get("code"), row.get("name")
            if not code:
                raise row.fail("code 不能为空")
            if not name:
                raise row.fail("name 不能为空")
            c = self.customers.get(code)
            created = c is None
            changes: list = []
            if created:
                c = Customer(code=code, name=name)
                self.s.add(c)
                self.customers[code] = c
            else:
                self.put(c, "name", name, changes)
            self.fields(c, row, fields, created, changes)
            if created or changes:
                c.updated_at = datetime.utcnow()  # the resolver's index notices the change
            self.record("customers", row, f"{code} {name}", created, changes)
        self.s.flush()

    def billing_(self, rows: list[Row]) -> None:
        existing = {
            (cid, m): b
            for b, cid, m in self.s.execute(select(Billing, Billing.customer_id, Billing.month)).all()
        }
        for row in rows:
            cust, month, amount = self.customer(row), _month(row), _money(row, "amount")
            b = existing.get((cust.id, month))
            created = b is None
            changes: list = []
            if created:
                b = Billing(customer_id=cust.id, month=month, amount=amount)
                self.s.add(b)
                existing[(cust.id, month)] = b
            else:
                self.put(b, "amount", amount, changes)
            self.record("billing", row, f"{cust.code} {month:%Y-%m}", created, changes)

    def subscriptions_(self, rows: list[Row]) -> None:
        fields = (
            Field("quantity", "quantity", _parse_int, 1, clearable=False),
            Field("monthly_fee", "monthly_fee", _parse_money, Decimal("0.00")),
            Field("start", "start", _parse_date, None),
            Field("end", "end", _parse_date, None),
        )
        existing = {(s.customer_id, s.product): s for s in self.s.execute(select(Subscription)).scalars()}
        for row in rows:
            cust = self.customer(row)
            product = lookup_product(row.get("product"))
            if product is None:
                raise row.fail(f"产品「{row.get('product')}」不在产品目录里（写编码或名称，如 MAN_LINE / 城域网专线）")
            s = existing.get((cust.id, product.code))
            created = s is None
            changes: list = []
            if created:
                s = Subscription(customer_id=cust.id, product=product.code)
                self.s.add(s)
                existing[(cust.id, product.code)] = s
            self.fields(s, row, fields, created, changes)
            self.record("subscriptions", row, f"{cust.code} {product.code}", created, changes)

    def contacts_(self, rows: list[Row]) -> None:
        fields = (
            Field("title", "title", _parse_text, ""),
            Field("role", "role", _chooser(_CUTE), "user", clearable=False),
            Field("phone", "phone", _parse_text, ""),
        )
        existing = {(c.customer_id, c.name): c for c in self.s.execute(select(Contact)).scalars()}
        for row in rows:
            cust = self.customer(row)
            name = row.get("name")
            if not name:
                raise row.fail("name 不能为空")
            c = existing.get((cust.id, name))
            created = c is None
            changes: list = []
            if created:
                c = Contact(customer_id=cust.id, name=name)
                self.s.add(c)
                existing[(cust.id, name)] = c
            self.fields(c, row, fields, created, changes)
            self.record("contacts", row, f"{cust.code} {name}", created, changes)

    def tickets_(self, rows: list[Row]) -> None:
        fields = (
            Field("status", "status", _chooser(_TSTATUS), "open", clearable=False),
            Field("summary", "summary", _parse_text, ""),
        )
        existing = {(t.customer_id, t.opened, t.kind): t for t in self.s.execute(select(Ticket)).scalars()}
        for row in rows:
            cust = self.customer(row)
            opened = _datetime(row, "opened")
            if not row.get("kind"):
                raise row.fail("kind 不能为空（故障、投诉 或 咨询）")
            kind = _chooser(_KIND)(row, "kind", row.get("kind"))
            t = existing.get((cust.id, opened, kind))
            created = t is None
            changes: list = []
            if created:
                t = Ticket(customer_id=cust.id, opened=opened, kind=kind)
                self.s.add(t)
                existing[(cust.id, opened, kind)] = t
            self.fields(t, row, fields, created, changes)
            self.record("tickets", row, f"{cust.code} {opened:%Y-%m-%d %H:%M} {kind}", created, changes)

    def visits_(self, rows: list[Row]) -> None:
        fields = (
            Field("manager_code", "manager_id", self._manager_id, None),
            Field("summary", "summary", _parse_text, ""),
            Field("next_step", "next_step", _parse_text, ""),
            Field("follow_up", "follow_up", _parse_date, None),
            Field("people", "people", _parse_people, "[]"),
            Field("products", "products", _parse_bars, ""),
            Field("signals", "signals", _parse_bars, ""),
            Field("follow_up_done", "follow_up_done", _parse_bool, False, clearable=False),
            Field("follow_up_outcome", "follow_up_outcome", _chooser(_OUTCOME), ""),
            Field("follow_up_closed_at", "follow_up_closed_at", _parse_datetime, None),
            Field("follow_up_note", "follow_up_note", _parse_text, ""),
        )
        seen: dict[str, int] = {}
        for row in rows:
            cust = self.customer(row)
            visit_date = _date(row, "date", required=True)
            key = row.get("key")
            if key and len(key) > 64:
                raise row.fail("key 太长（最多 64 个字符）")
            if not key:  # a hand-written file: the visit is the customer, the day and what was said
                key = "imp:" + natural_key(cust.code, visit_date, row.get("summary"))[:36]
            if key in seen:
                raise row.fail(f"与第 {seen[key]} 行是同一条拜访（key {key}）")
            seen[key] = row.line
            v = self.s.execute(select(Visit).where(Visit.dedupe_key == key)).scalar_one_or_none()
            created = v is None
            changes: list = []
            label = f"{cust.code} {visit_date:%Y-%m-%d}"
            if not created and v.customer_id != cust.id:
                raise row.fail(f"key {key} 是另一个客户的拜访，不能改到 {cust.code} 下")
            if not created and v.deleted:
                self.record("visits", row, label, False, [], "这条拜访已在助手里删除，导入不恢复")
                self.report.rows[-1].status = "跳过"
                continue
            if created:
                v = Visit(customer_id=cust.id, dedupe_key=key, visit_date=visit_date,
                          created_at=datetime.utcnow(), deleted=False)
                self.s.add(v)
            else:
                self.put(v, "visit_date", visit_date, changes, "date")
            self.fields(v, row, fields, created, changes)
            if created or changes:
                v.updated_at = datetime.utcnow()
            self.record("visits", row, label, created, changes)


def import_tables(session: Session, tables: dict[str, list[Row]], replace: bool = False) -> ImportReport:
    """Apply parsed tables inside the caller's transaction; raises ImportFailure on a bad row.

    The caller commits, or rolls back for a dry run; the report says row by row what changed.
    """
    report = ImportReport(replaced=replace)
    if replace:
        for model in (Visit, Ticket, Contact, Subscription, Billing, Customer):
            session.execute(delete(model))
        session.flush()
    imp = _Importer(session, report)
    for name in ORDER:
        if name in tables:
            getattr(imp, f"{name}_")(tables[name])
            session.flush()
    return report


# ---------------------------------------------------------------- export
def export_rows(session: Session, table: str) -> tuple[list[str], list[list]]:
    """Rows in the import schema: every row carries its key, so importing an export changes nothing."""
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
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, datetime):  # to the microsecond when it has them: the time is part of a key
            if v.microsecond:
                return v.strftime("%Y-%m-%d %H:%M:%S.%f")
            return v.strftime("%Y-%m-%d %H:%M:%S") if v.second else v.strftime("%Y-%m-%d %H:%M")
        if isinstance(v, date):
            return v.strftime("%Y-%m-%d")
        return v

    if table == "managers":
        for m in session.execute(select(Manager).order_by(Manager.code)).scalars():
            rows.append([m.code, m.name, m.telegram_user_id, m.team, m.role, m.wecom_user_id])
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
        for v in session.execute(
            select(Visit).where(Visit.deleted.is_(False)).order_by(Visit.visit_date, Visit.id)
        ).scalars():
            rows.append([codes[v.customer_id], v.visit_date, mcodes.get(v.manager_id, ""), v.summary,
                         v.next_step, v.follow_up, v.people, v.products, v.signals, v.follow_up_done,
                         v.follow_up_outcome, v.follow_up_closed_at, v.follow_up_note, v.dedupe_key])
    return cols, [[fmt(x) for x in r] for r in rows]


def write_csv(cols: list[str], rows: list[list], out) -> None:
    """CSV with every text cell formula-safe (see escape_cell); the import undoes it."""
    writer = csv.writer(out)
    writer.writerow(cols)
    writer.writerows([escape_cell(v) if isinstance(v, str) else v for v in r] for r in rows)


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
