"""The evaluation CRM: the demo data set (seed 7, 60 customers) plus tests/fixtures/import_ok and the
threshold customers, as the held-out sets expect it (`make eval`, the conversation-set tests)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture_crm(url: str, today: date | None = None) -> None:
    from actions.db import demo, migrate
    from actions.db.session import session_scope
    from actions.db.transfer import import_tables, read_source
    from tests.conftest import write_threshold_import

    migrate.upgrade(url)
    with session_scope(url) as s:
        demo.load(s, demo.build(today=today or date.today(), customers=60, seed=7))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "thresholds"
        write_threshold_import(folder)
        with session_scope(url) as s:
            import_tables(s, read_source(FIXTURES / "import_ok"))
            import_tables(s, read_source(folder))
