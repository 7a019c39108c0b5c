"""Imports that never destroy, a previewable import, export → import a no-op, formula-safe CSV.

On SQLite and on the real PostgreSQL (the demo_db / empty_db fixtures), through the `kam` command.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from actions.cli import main as kam
from actions.db import migrate
from actions.db.models import Billing, Contact, Customer, Manager, Subscription, Ticket, Visit
from actions.db.session import dispose_all, get_engine, session_scope
from actions.db.transfer import ORDER, export_rows

TABLES = (Manager, Customer, Billing, Subscription, Contact, Ticket, Visit)


def snapshot(url: str) -> dict:
    """Everything an import could change, as the export shows it."""
    with session_scope(url) as s:
        return {t: export_rows(s, t) for t in ORDER}


def counts(url: str) -> dict:
    with session_scope(url) as s:
        return {m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar() for m in TABLES}


def write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.csv").write_text(body, encoding="utf-8")
    return folder


def hg(s) -> Customer:
    return s.execute(select(Customer).where(Customer.code == "C0001")).scalar_one()


def test_customers_with_only_code_and_name_change_nothing_else(demo_db, tmp_path, capsys):
    before = snapshot(demo_db)
    src = write(tmp_path / "in", "customers", "code,name\nC0001,华中钢铁集团有限公司\n")
    assert kam(["import", str(src)]) == 0
    assert "customers: 未变 1" in capsys.readouterr().out
    assert snapshot(demo_db) == before
    # renaming through the same two columns renames and touches nothing else
    write(src, "customers", "code,name\nC0001,华中钢铁集团股份有限公司\n")
    assert kam(["import", str(src)]) == 0
    with session_scope(demo_db) as s:
        c = hg(s)
        assert c.name == "华中钢铁集团股份有限公司"
        assert c.manager is not None and c.manager.code == "M001"
        assert "华钢" in c.alias_list and c.industry == "制造业" and c.contract_end is not None
        assert c.competitor_list and c.since is not None


def test_empty_cell_keeps_and_only_the_clear_marker_clears(demo_db, tmp_path, capsys):
    with session_scope(demo_db) as s:
        c = hg(s)
        aliases, competitors, address = c.aliases, c.competitors, c.address
    assert competitors and address
    src = write(tmp_path / "in", "customers",
                "code,name,aliases,competitors,address,manager_code\n"
                "C0001,华中钢铁集团有限公司,,(清空),,\n")
    assert kam(["import", str(src)]) == 0
    with session_scope(demo_db) as s:
        c = hg(s)
        assert c.aliases == aliases and c.address == address and c.manager.code == "M001"  # empty: kept
        assert c.competitors == ""  # (清空): cleared
    # a choice with a default cannot be cleared: the row is refused and nothing changes
    write(src, "customers", "code,name,status\nC0001,华中钢铁集团有限公司,（清空）\n")
    assert kam(["import", str(src)]) == 2
    err = capsys.readouterr().err
    assert "customers.csv 第 2 行" in err and "status 不能清空" in err


def test_partial_managers_csv_unbinds_nobody_and_wecom_ids_round_trip(demo_db, tmp_path, capsys):
    with session_scope(demo_db) as s:
        m = s.execute(select(Manager).where(Manager.code == "M001")).scalar_one()
        m.wecom_user_id = "LiQiang"
    src = write(tmp_path / "in", "managers", "code,name,team\nM001,李强,政企一部\nM002,王芳,政企一部\n")
    assert kam(["import", str(src)]) == 0
    with session_scope(demo_db) as s:
        m = s.execute(select(Manager).where(Manager.code == "M001")).scalar_one()
        assert m.telegram_user_id == "10001" and m.wecom_user_id == "LiQiang"
    # the export carries wecom_user_id, and an import sets it
    capsys.readouterr()
    assert kam(["export", "managers"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "code,name,telegram_user_id,team,role,wecom_user_id"
    assert "M001,李强,10001,政企一部,manager,LiQiang" in out
    write(src, "managers", "code,name,wecom_user_id\nM002,王芳,WangFang\n")
    assert kam(["import", str(src)]) == 0
    with session_scope(demo_db) as s:
        assert s.execute(select(Manager.wecom_user_id).where(Manager.code == "M002")).scalar_one() == "WangFang"


def test_binding_moves_only_when_the_file_takes_it_from_the_old_holder(demo_db, tmp_path, capsys):
    src = write(tmp_path / "in", "managers", "code,name,telegram_user_id\nM002,王芳,10001\n")
    assert kam(["import", str(src)]) == 2
    err = capsys.readouterr().err
    assert "10001 已绑定给 M001" in err and "数据库保持原样" in err
    write(src, "managers", "code,name,telegram_user_id\nM002,王芳,10001\nM001,李强,(清空)\n")
    assert kam(["import", str(src)]) == 0
    with session_scope(demo_db) as s:
        ids = dict(s.execute(select(Manager.code, Manager.telegram_user_id)).all())
    assert ids["M002"] == "10001" and ids["M001"] is None


def test_dry_run_prints_each_change_and_changes_nothing(demo_db, tmp_path, capsys):
    before = snapshot(demo_db)
    src = write(tmp_path / "in", "customers", "code,name,industry\nC0001,华中钢铁集团有限公司,冶金\n")
    write(src, "contacts", "customer_code,name,phone\nC0001,周明,13800009999\nC0001,新来的,13700001111\n")
    assert kam(["import", str(src), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "数据库没有任何改动" in out
    assert "customers.csv 第 2 行 C0001 华中钢铁集团有限公司：更新 industry「制造业」→「冶金」" in out
    assert "contacts.csv 第 3 行 C0001 新来的：新增" in out
    assert "phone 已变更（不显示号码）" in out and "13800009999" not in out
    assert snapshot(demo_db) == before


def test_export_then_import_is_a_no_op_for_every_table(demo_db, tmp_path, capsys, make_chat):
    # a chat-saved visit (key msg:…), a closed follow-up with its outcome, and demo visits
    with session_scope(demo_db) as s:
        c = hg(s)
        m = s.execute(select(Manager).where(Manager.code == "M001")).scalar_one()
        s.add(Visit(customer_id=c.id, manager_id=m.id, visit_date=date.today(), summary="刚见完周主任 下周报价",
                    dedupe_key="msg:abc", follow_up=date.today(), follow_up_done=True, follow_up_outcome="done",
                    follow_up_closed_at=datetime(2026, 11, 20, 9, 30, 15), follow_up_note="报价已发"))
        assert s.execute(select(func.count()).select_from(Visit).where(Visit.dedupe_key.is_(None))).scalar() == 0
    before, n_before = snapshot(demo_db), counts(demo_db)
    out = tmp_path / "export"
    assert kam(["export", "all", "--out", str(out)]) == 0
    visits_csv = (out / "visits.csv").read_text(encoding="utf-8")
    assert "key" in visits_csv.splitlines()[0] and "follow_up_outcome" in visits_csv.splitlines()[0]
    capsys.readouterr()
    assert kam(["import", str(out)]) == 0
    report = capsys.readouterr().out
    assert "新增" not in report and "更新" not in report
    assert counts(demo_db) == n_before and snapshot(demo_db) == before
    # and into an emptied database: the same rows, keys and follow-up state come back
    assert kam(["import", str(out), "--replace"]) == 0
    after = snapshot(demo_db)
    assert after["visits"] == before["visits"] and after["tickets"] == before["tickets"]
    with session_scope(demo_db) as s:
        v = s.execute(select(Visit).where(Visit.dedupe_key == "msg:abc")).scalar_one()
        assert v.follow_up_done and v.follow_up_outcome == "done" and v.follow_up_note == "报价已发"
        assert v.follow_up_closed_at == datetime(2026, 11, 20, 9, 30, 15)


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x.example","点我")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)",
                                       "-2+3", "\t=1", "'=already quoted"])
def test_csv_export_neutralises_formulas_and_reimports_verbatim(demo_db, tmp_path, dangerous):
    with session_scope(demo_db) as s:
        contact = s.execute(select(Contact).where(Contact.customer_id == hg(s).id).limit(1)).scalar_one()
        contact.title = dangerous
        name = contact.name
    out = tmp_path / "contacts.csv"
    assert kam(["export", "contacts", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as fh:
        cells = [row for row in csv.reader(fh) if row[1] == name and row[0] == "C0001"][0]
    assert cells[2] == "'" + dangerous  # a spreadsheet shows it as text, never runs it
    for row in csv.reader(out.open(encoding="utf-8", newline="")):
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    before = snapshot(demo_db)
    assert kam(["import", str(out)]) == 0
    assert snapshot(demo_db) == before
    with session_scope(demo_db) as s:
        assert s.execute(select(Contact.title).where(Contact.name == name)).scalar_one() == dangerous


def test_migration_0003_gives_old_visits_a_key(empty_db):
    migrate.downgrade(empty_db, "0002")
    with get_engine(empty_db).begin() as conn:
        conn.execute(text("INSERT INTO managers (code, name, team, role) VALUES ('M1', '甲', '', 'manager')"))
        conn.execute(text("INSERT INTO customers (code, name, aliases, industry, importance, status, competitors, "
                          "address, updated_at) VALUES ('K1', '乙', '', '', '一般', 'active', '', '', '2026-01-01')"))
        for _ in range(2):
            conn.execute(text(
                "INSERT INTO visits (customer_id, visit_date, people, products, signals, summary, next_step, "
                "follow_up_done, deleted, created_at, updated_at) VALUES ((SELECT id FROM customers), "
                "'2026-01-02', '[]', '', '', '', '', false, false, '2026-01-02', '2026-01-02')"))
    migrate.upgrade(empty_db)
    with session_scope(empty_db) as s:
        keys = s.execute(select(Visit.dedupe_key)).scalars().all()
    assert len(keys) == 2 and len(set(keys)) == 2 and all(k.startswith("v:") for k in keys)


def test_a_first_round_database_with_data_upgrades(empty_db):
    """A CRM created by the first round (revision 0001) with managers owning customers upgrades to
    the latest schema; on SQLite the batch copy of `managers` must not trip over the customers'
    foreign keys (it did: 'FOREIGN KEY constraint failed … DROP TABLE managers')."""
    migrate.downgrade(empty_db, "0001")
    with get_engine(empty_db).begin() as conn:
        conn.execute(text("INSERT INTO managers (code, name, team, role, telegram_user_id) VALUES ('M1', '甲', '一部', 'manager', '7')"))
        conn.execute(text("INSERT INTO customers (code, name, aliases, industry, importance, status, competitors, "
                          "address, updated_at, manager_id) VALUES ('K1', '乙', '', '', '一般', 'active', '', '', "
                          "'2026-01-01 00:00:00', (SELECT id FROM managers))"))
        conn.execute(text(
            "INSERT INTO visits (customer_id, manager_id, visit_date, people, products, signals, summary, next_step, "
            "follow_up_done, deleted, created_at, updated_at) VALUES ((SELECT id FROM customers), (SELECT id FROM managers), "
            "'2026-01-02', '[]', '', '', '记录', '', false, false, '2026-01-02 00:00:00', '2026-01-02 00:00:00')"))
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == "0003"
    with session_scope(empty_db) as s:
        customer = s.execute(select(Customer)).scalar_one()
        assert customer.manager_id == s.execute(select(Manager.id).where(Manager.code == "M1")).scalar_one()
        visit = s.execute(select(Visit)).scalar_one()
        assert visit.summary == "记录" and visit.follow_up_outcome == "" and visit.dedupe_key.startswith("v:")


def test_an_interrupted_sqlite_upgrade_can_be_run_again(tmp_path):
    """What the failure above left behind on SQLite (no transactional DDL there): the visits'
    new columns added, alembic's copy of managers half made, the revision still 0001."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "0001")
    with get_engine(url).begin() as conn:
        conn.execute(text("ALTER TABLE visits ADD COLUMN follow_up_outcome VARCHAR(8) DEFAULT '' NOT NULL"))
        conn.execute(text("ALTER TABLE visits ADD COLUMN follow_up_closed_at DATETIME"))
        conn.execute(text("ALTER TABLE visits ADD COLUMN follow_up_note TEXT DEFAULT '' NOT NULL"))
        conn.execute(text("CREATE TABLE _alembic_tmp_managers (id INTEGER PRIMARY KEY)"))
    migrate.upgrade(url)
    assert migrate.current_revision(url) == "0003"
    with get_engine(url).connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert "used_messages" in tables and "_alembic_tmp_managers" not in tables
    dispose_all()
