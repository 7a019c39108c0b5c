"""Supervisor outputs: weekly visit report and the visits export."""

import csv
import io
from datetime import date, timedelta

from actions.cli import main as kam


def test_weekly_report_lists_visits_stale_customers_and_overdue(sqlite_demo, capsys):
    assert kam(["report", "visits", "--week", "--manager", "M001"]) == 0
    out = capsys.readouterr().out
    monday = date.today() - timedelta(days=date.today().weekday())
    assert out.startswith(f"拜访周报 {monday:%Y-%m-%d}")
    assert "李强（M001，政企一部）" in out
    assert "本周到期跟进" in out and "完成率" in out
    assert "⚠ 逾期 5 天" in out and "楚天大酒店有限公司：安排测速" in out  # overdue items with their age
    assert "⚠ 未拜访 长江物流集团有限公司（白金）" in out  # 70 days > 30-day cadence
    assert "华中钢铁集团有限公司（钻石）" not in out.split("⚠ 未拜访", 1)[-1]  # visited 14 days ago


def test_report_unknown_manager_is_a_clear_error(sqlite_demo, capsys):
    assert kam(["report", "visits", "--week", "--manager", "M999"]) == 2
    assert "M999" in capsys.readouterr().err


def test_export_visits_has_import_columns_and_extracted_fields(sqlite_demo, capsys):
    assert kam(["export", "visits"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"customer_code", "date", "manager_code", "summary", "next_step", "follow_up",
            "people", "products", "signals"} <= set(rows[0])
    hg = [r for r in rows if r["customer_code"] == "C0001"]
    assert any("周明" in r["people"] and r["products"] == "MAN_LINE" for r in hg)


def test_telegram_without_token_is_one_clear_line(monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert kam(["telegram"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_bind_codes_expire_after_24_hours_and_work_once(sqlite_demo):
    from datetime import datetime, timedelta

    from actions.db.access import create_bind_code, redeem_bind_code
    from actions.db.session import session_scope

    issued = datetime(2026, 11, 22, 9, 0)
    with session_scope(sqlite_demo) as s:
        late, _ = create_bind_code(s, "M002", now=issued)
        fresh, _ = create_bind_code(s, "M002", now=issued)
    with session_scope(sqlite_demo) as s:
        assert redeem_bind_code(s, late, "90001", now=issued + timedelta(hours=24, minutes=1)) is None
        assert redeem_bind_code(s, fresh, "90001", now=issued + timedelta(hours=23)).code == "M002"
        assert redeem_bind_code(s, fresh, "90002", now=issued + timedelta(hours=23)) is None  # used
