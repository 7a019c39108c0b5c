"""Describe the evaluation CRM (tests/fixture_crm.py) in Markdown for people who write test sets
without reading data/ or tests/: managers and the chat ids that speak as them, and every customer
with its short names, tier, stage, industry, contract end, contacts and open warnings.

    .venv/bin/python scripts/crm_brief.py > /work/briefs/crm_fixture.md
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from sqlalchemy import select

    from actions.core import warnings
    from actions.db.models import Customer, Manager
    from actions.db.repositories import load_facts
    from actions.db.session import session_scope
    from tests.fixture_crm import load_fixture_crm

    today = date.today()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/crm.db"
        load_fixture_crm(url, today)
        with session_scope(url) as s:
            out = [f"# The evaluation CRM as of {today.isoformat()}", "", "## Managers (chat id → who)", ""]
            managers = s.execute(select(Manager).order_by(Manager.code)).scalars().all()
            for m in managers:
                out.append(f"- {m.telegram_user_id or '(no chat)'}: {m.name} {m.code}, {m.team}, {m.role}")
            for m in managers:
                customers = s.execute(
                    select(Customer).where(Customer.manager_id == m.id).order_by(Customer.code)
                ).scalars().all()
                if not customers:
                    continue
                out += ["", f"## Customers of {m.name} ({m.code})", ""]
                for c in customers:
                    f = load_facts(s, c, today=today)
                    alerts = warnings.alerts_for(f, today=today, now=datetime.now())
                    contacts = "; ".join(f"{x.name} {x.title} ({x.role_zh})" for x in f.contacts)
                    out.append(
                        f"- **{c.name}** ({c.code}) aliases: {'、'.join(f.aliases) or '—'}; "
                        f"{f.industry}; {f.tier.zh}; {f.stage.zh}; contract ends {c.contract_end or '—'}; "
                        f"products: {', '.join(sorted(f.product_codes)) or '—'}; contacts: {contacts or '—'}; "
                        f"warnings: {', '.join(a.kind for a in alerts) or 'none'}"
                    )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
