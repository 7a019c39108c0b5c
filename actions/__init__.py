"""大客户经理助手的动作包。

Layout:
  actions/core/      plain domain logic (no Rasa, no I/O at import)
  actions/db/        SQLAlchemy models, sessions, repositories, Alembic migrations, import/export
  actions/kb/        knowledge base YAML (products, SPIN questions, bundles, tier policy) + loader
  actions/dialogue/  the thin Rasa actions
  actions/cli.py     the `kam` command
Nothing here opens a database or a file at import time: rasa-sdk imports every module.
"""
