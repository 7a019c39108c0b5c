"""CRM database: migrations, import/export, demo data — on SQLite and on PostgreSQL."""

import shutil
from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from actions.cli import main as kam
from actions.db import demo, migrate
from actions.db.models import (
    AuditLog,
    Base,
    Billing,
    Contact,
    Customer,
    Manager,
    Subscription,
    Visit,
)
from actions.db.session import get_engine, session_scope
from actions.db.transfer import ImportFailure, import_tables, read_source

FIXTURES = Path(__file__).parent / "fixtures"


def count(url, model):
    with session_scope(url) as s:
        return s.execute(select(func.count()).select_from(model)).scalar()


def test_migration_matches_models_and_downgrades(empty_db):
    with get_engine(empty_db).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config(empty_db)).get_current_head()
    assert migrate.current_revision(empty_db) == head
    migrate.downgrade(empty_db)
    assert not inspect(get_engine(empty_db)).has_table("customers")
    migrate.upgrade(empty_db)
    assert inspect(get_engine(empty_db)).has_table("visits")


def test_import_good_folder_then_reimport_is_idempotent(empty_db, capsys):
    assert kam(["import", str(FIXTURES / "import_ok")]) == 0
    out = capsys.readouterr().out
    assert "customers: 新增 3" in out and "billing: 新增 8" in out
    with session_scope(empty_db) as s:
        c = s.execute(select(Customer).where(Customer.code == "K001")).scalar_one()
        assert c.name == "鄂东明珠新材料股份有限公司" and c.alias_list == ["明珠新材", "鄂东明珠"]
        assert s.get(Manager, c.manager_id).code == "E100"
        sub = s.execute(select(Subscription).where(Subscription.customer_id == c.id, Subscription.product == "MAN_LINE")).scalar_one()
        assert sub.quantity == 6  # imported by product name 城域网专线 → code MAN_LINE
    before = {m: count(empty_db, m) for m in (Customer, Billing, Contact, Subscription, Visit)}
    assert kam(["import", str(FIXTURES / "import_ok")]) == 0
    out = capsys.readouterr().out
    assert "customers: 未变 3" in out and "新增" not in out and "更新" not in out
    assert {m: count(empty_db, m) for m in before} == before


@pytest.mark.parametrize(
    "file,bad_line,reason",
    [
        ("billing.csv", "K001,2026-13,5000", "month 应为 YYYY-MM"),
        ("billing.csv", "K999,2026-10,5000", "客户编码 K999 不存在"),
        ("billing.csv", "K001,2026-10,-3", "不能为负数"),
        ("subscriptions.csv", "K001,卫星电话,1,100,,", "不在产品目录里"),
        ("customers.csv", "K004,某公司,,制造业,很重要,E100,2020-01-01,,active,,,", "importance 应为"),
    ],
)
def test_import_bad_row_changes_nothing_and_names_the_row(empty_db, tmp_path, capsys, file, bad_line, reason):
    src = tmp_path / "in"
    shutil.copytree(FIXTURES / "import_ok", src)
    with (src / file).open("a", encoding="utf-8") as fh:
        fh.write(bad_line + "\n")
    lines = (src / file).read_text(encoding="utf-8").strip().splitlines()
    assert kam(["import", str(src)]) == 2
    err = capsys.readouterr().err
    assert f"{file} 第 {len(lines)} 行" in err and reason in err and "数据库保持原样" in err
    assert count(empty_db, Customer) == 0 and count(empty_db, Manager) == 0 and count(empty_db, Billing) == 0


def test_bad_row_after_existing_data_leaves_it_untouched(demo_db, tmp_path):
    before = count(demo_db, Customer)
    src = tmp_path / "in"
    shutil.copytree(FIXTURES / "import_ok", src)
    (src / "contacts.csv").write_text("customer_code,name,title,role,phone\nK001,某人,经理,boss,1\n", encoding="utf-8")
    with pytest.raises(ImportFailure) as e, session_scope(demo_db) as s:
        import_tables(s, read_source(src))
    assert "contacts.csv 第 2 行" in str(e.value) and "role" in str(e.value)
    assert count(demo_db, Customer) == before


def test_missing_required_column_is_reported(empty_db, tmp_path, capsys):
    (tmp_path / "customers.csv").write_text("code,aliases\nK1,x\n", encoding="utf-8")
    assert kam(["import", str(tmp_path)]) == 2
    assert "缺少必需的列：name" in capsys.readouterr().err


def test_xlsx_export_reimports_verbatim(demo_db, tmp_path, monkeypatch):
    weird = '=SUM(A1) 他说"很贵"<b>x</b>\n第二行 😀'
    with session_scope(demo_db) as s:
        v = s.execute(select(Visit).limit(1)).scalar_one()
        v.summary = weird
    out = tmp_path / "all.xlsx"
    assert kam(["export", "all", "--out", str(out)]) == 0
    # into a fresh database of the same kind
    with session_scope(demo_db) as s:
        import_tables(s, {}, replace=True)
    assert count(demo_db, Customer) == 0
    assert kam(["import", str(out)]) == 0
    with session_scope(demo_db) as s:
        assert s.execute(select(Visit).where(Visit.summary == weird)).scalar_one_or_none() is not None
        assert s.execute(select(func.count()).select_from(Customer)).scalar() == 60


def test_demo_is_deterministic_and_complete(demo_db):
    a = demo.build(today=date(2026, 11, 22), customers=200, seed=5)
    b = demo.build(today=date(2026, 11, 22), customers=200, seed=5)
    assert a == b
    names = [c["name"] for c in a["customers"]]
    assert len(names) == len(set(names)) == 200
    hg = next(c for c in a["customers"] if c["name"] == "华中钢铁集团有限公司")
    assert hg["industry"] == "制造业" and "华钢" in hg["aliases"] and hg["manager_id"] == 2
    from actions.db.repositories import load_facts, portfolio_facts

    with session_scope(demo_db) as s:
        m = s.execute(select(Manager).where(Manager.code == "M004")).scalar_one()  # a team lead
        facts = portfolio_facts(s, m)
        assert {f.tier.zh for f in facts} == {"水晶", "黄金", "宝石", "白金", "翡翠", "钻石"}
        assert {f.stage.zh for f in facts} == {"获取期", "提升期", "成熟期", "衰退期", "离网期"}
        hg = s.execute(select(Customer).where(Customer.code == "C0001")).scalar_one()
        f = load_facts(s, hg)
        assert f.tier.zh == "钻石" and f.stage.zh == "衰退期"


def test_demo_refuses_to_overwrite_imported_data(demo_db, capsys):
    assert kam(["demo", "--customers", "5"]) == 2
    assert "不会覆盖" in capsys.readouterr().err
    assert count(demo_db, Customer) == 60


def test_setup_is_idempotent(empty_db, capsys):
    assert kam(["setup"]) == 0
    assert "已导入演示数据" in capsys.readouterr().out
    assert kam(["setup"]) == 0
    assert "数据库已就绪" in capsys.readouterr().out
    assert count(empty_db, Customer) == 60


def test_export_csv_to_stdout(demo_db, capsys):
    assert kam(["export", "customers"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("code,name,aliases,industry")
    assert any("华中钢铁集团有限公司" in line for line in out)
    assert kam(["export", "nonsense"]) == 2


def test_audit_log_table_is_writable(empty_db):
    from actions.db.repositories import audit

    with session_scope(empty_db) as s:
        audit(s, "M001", "view", 1, intent="customer_status")
    assert count(empty_db, AuditLog) == 1


def test_billing_for_one_customer_uses_the_index(demo_db):
    """No query scans all billing rows for one customer (the customer_status hot path)."""
    from sqlalchemy import text

    query = "SELECT month, amount FROM billing WHERE customer_id = 1 ORDER BY month DESC LIMIT 24"
    with session_scope(demo_db) as s:
        if s.get_bind().dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in s.execute(text(f"EXPLAIN QUERY PLAN {query}")))
            # SQLite names the unique constraint's index sqlite_autoindex_billing_N
            assert "SEARCH billing USING INDEX" in plan and "(customer_id=?)" in plan
        else:
            s.execute(text("SET LOCAL enable_seqscan = off"))  # tiny test tables would not need the index
            plan = " ".join(r[0] for r in s.execute(text(f"EXPLAIN {query}")))
            assert "uq_billing_customer_month" in plan and "Seq Scan" not in plan
