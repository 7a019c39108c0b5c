"""`kam`: the operator's command line (database, demo data, import/export, knowledge base, servers)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

EXIT_BAD_INPUT = 2


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _print_counts(title: str, counts: dict) -> None:
    parts = []
    for table, value in counts.items():
        if isinstance(value, dict):
            value = "，".join(f"{k} {v}" for k, v in value.items())
        parts.append(f"{table}: {value}")
    print(f"{title}：" + ("；".join(parts) if parts else "无变化"))


# ---------------------------------------------------------------- database
def cmd_db_init(args) -> int:
    from actions.db import migrate
    from actions.db.session import database_url, redact

    print(f">> 迁移数据库 {redact(database_url())}", flush=True)
    migrate.upgrade()
    print(f"数据库已是最新版本（{migrate.current_revision()}）")
    return 0


def cmd_setup(args) -> int:
    from actions.db import demo, migrate
    from actions.db.session import database_url, redact, session_scope

    migrate.upgrade()
    with session_scope() as s:
        if demo.is_empty(s):
            print(f">> 空数据库，导入演示数据（{args.customers} 个客户）", flush=True)
            counts = demo.load(s, demo.build(customers=args.customers, seed=args.seed))
            _print_counts("已导入演示数据", counts)
        else:
            print(f"数据库已就绪：{redact(database_url())}")
    return 0


def cmd_demo(args) -> int:
    from actions.db import demo, migrate
    from actions.db.session import session_scope
    from actions.db.transfer import import_tables

    if args.customers < 1:
        return _fail("--customers 至少为 1")
    migrate.upgrade()
    started = datetime.now()
    with session_scope() as s:
        if not demo.is_empty(s):
            if not args.replace:
                return _fail("数据库里已有数据，演示数据不会覆盖它；确需重建请加 --replace（会清空所有客户数据）")
            import_tables(s, {}, replace=True)
            from sqlalchemy import delete

            from actions.db.models import AuditLog, BindCode, Manager

            for model in (AuditLog, BindCode, Manager):
                s.execute(delete(model))
        counts = demo.load(s, demo.build(customers=args.customers, seed=args.seed))
    _print_counts("已生成演示数据", counts)
    print(f"用时 {(datetime.now() - started).total_seconds():.1f} 秒")
    return 0


def cmd_import(args) -> int:
    from actions.db import migrate
    from actions.db.session import session_factory, session_scope
    from actions.db.transfer import ImportFailure, import_tables, read_source

    migrate.upgrade()
    try:
        tables = read_source(Path(args.path))
        if args.dry_run:
            with session_factory()() as s:
                try:
                    report = import_tables(s, tables, replace=args.replace)
                finally:
                    s.rollback()  # a preview: nothing is written
        else:
            with session_scope() as s:
                report = import_tables(s, tables, replace=args.replace)
    except ImportFailure as e:
        return _fail(f"{e}。没有导入任何数据，数据库保持原样。")
    if args.dry_run:
        print("预演（--dry-run）：下面是导入会做的改动，数据库没有任何改动。")
        if report.replaced:
            print("会先清空全部客户数据（--replace），再导入下面的行。")
        for row in report.changed:
            print(row.describe())
        for row in report.rows:
            if row.status == "跳过":
                print(row.describe())
        unchanged = sum(1 for r in report.rows if r.status == "未变")
        if unchanged:
            print(f"另有 {unchanged} 行与数据库一致，不会改动。")
        _print_counts("合计（预演）", report.counts)
        return 0
    _print_counts("导入完成", report.counts)
    return 0


def cmd_export(args) -> int:
    from actions.db.session import session_scope
    from actions.db.transfer import ORDER, export_rows, write_csv, write_xlsx

    tables = list(ORDER) if args.table == "all" else [args.table]
    if args.table != "all" and args.table not in ORDER:
        return _fail(f"没有这张表：{args.table}（可选：{', '.join(ORDER)}、all）")
    with session_scope() as s:
        data = {t: export_rows(s, t) for t in tables}
    out = args.out
    if out and out.endswith(".xlsx"):
        write_xlsx(data, Path(out))
        print(f"已导出 {', '.join(f'{t} {len(r)} 行' for t, (_, r) in data.items())} → {out}")
        return 0
    if args.table == "all":
        if not out:
            return _fail("导出全部表需要 --out 目录或 .xlsx 文件")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for t, (cols, rows) in data.items():
            with (folder / f"{t}.csv").open("w", encoding="utf-8", newline="") as fh:
                write_csv(cols, rows, fh)
        print(f"已导出 {', '.join(f'{t} {len(r)} 行' for t, (_, r) in data.items())} → {folder}/")
        return 0
    cols, rows = data[args.table]
    if out:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            write_csv(cols, rows, fh)
        print(f"已导出 {args.table} {len(rows)} 行 → {out}")
    else:
        write_csv(cols, rows, sys.stdout)
    return 0


# ---------------------------------------------------------------- knowledge base
def cmd_kb_check(args) -> int:
    from actions.kb import loader

    try:
        summary = loader.check_all()
    except loader.KnowledgeError as e:
        return _fail(f"知识库校验失败：{e}")
    print("知识库校验通过：" + "，".join(f"{k} {v}" for k, v in summary.items()))
    return 0


def cmd_kb_jieba(args) -> int:
    from actions.core.lexicon import write_jieba_dictionary

    path, n = write_jieba_dictionary()
    print(f"已生成 jieba 词典 {path}（{n} 个词）；改动后需要重新训练：make train")
    return 0


# ---------------------------------------------------------------- managers
def cmd_bind_code(args) -> int:
    from actions.db.access import create_bind_code
    from actions.db.session import session_scope

    with session_scope() as s:
        try:
            code, expires = create_bind_code(s, args.manager_code)
        except LookupError as e:
            return _fail(str(e))
    print(f"绑定码：{code}（{expires:%Y-%m-%d %H:%M} 前有效，只能用一次）")
    print(f"请客户经理在 Telegram 或企业微信里给助手发送：/bind {code}")
    return 0


def cmd_manager_wecom(args) -> int:
    from actions.db.access import set_chat_identity
    from actions.db.repositories import audit, manager_by_code
    from actions.db.session import session_scope

    if bool(args.user_id) == args.clear:
        return _fail("请给出企业微信 UserId，或用 --clear 解除绑定（二选一）")
    with session_scope() as s:
        manager = manager_by_code(s, args.manager_code)
        if manager is None:
            return _fail(f"没有编码为 {args.manager_code} 的客户经理")
        set_chat_identity(s, manager, "wecom_user_id", None if args.clear else args.user_id.strip())
        audit(s, "admin", "wecom_user_set", manager=manager.code, wecom_user=manager.wecom_user_id)
        name = manager.name
    print(f"{name}（{args.manager_code}）的企业微信 UserId 已解除" if args.clear
          else f"{name}（{args.manager_code}）的企业微信 UserId 设为 {args.user_id.strip()}")
    return 0


# ---------------------------------------------------------------- reports
def cmd_report_visits(args) -> int:
    from actions.db.session import session_scope
    from actions.services.reports import weekly_visits

    try:
        day = date.fromisoformat(args.date) if args.date else date.today()
    except ValueError:
        return _fail(f"--date 应为 YYYY-MM-DD（实际：{args.date}）")
    with session_scope() as s:
        try:
            text = weekly_visits(s, day, args.manager)
        except LookupError as e:
            return _fail(str(e))
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"已写出周报 → {args.out}")
    else:
        print(text)
    return 0


# ---------------------------------------------------------------- servers
def cmd_train(args) -> int:
    from actions.ops import ensure_model

    ensure_model(force=args.force)
    return 0


def _ports() -> tuple[int, int]:
    return int(os.environ.get("RASA_PORT", "5005")), int(os.environ.get("ACTIONS_PORT", "5055"))


def _start_servers():
    """Both servers in the foreground (`make serve`, `make telegram`), stopped by Ctrl-C or a signal."""
    from actions.ops import Servers, ensure_model

    model = ensure_model(quiet=True)
    rasa_port, actions_port = _ports()
    servers = Servers(model, rasa_port, actions_port)
    servers.stop_on_signals()
    interface = os.environ.get("ACTIONS_INTERFACE", "127.0.0.1")
    print(f">> 启动动作服务器（{interface}:{actions_port}）", flush=True)
    servers.start_actions()
    print(f">> 启动 Rasa（127.0.0.1:{rasa_port}，加载模型约需十秒）", flush=True)
    servers.start_rasa()
    if os.environ.get("RASA_AUTH_TOKEN"):
        print(">> Rasa 的 HTTP 接口（/conversations/…）需要 RASA_AUTH_TOKEN", flush=True)
    else:
        print(f">> Rasa 的 HTTP 接口（/conversations/…）需要令牌：见 {servers.var_dir / 'rasa_auth_token'}"
              "（仅本用户可读）", flush=True)
    print(f">> 对话保存在 {servers.env['KAM_TRACKER_DB']}，重启不丢", flush=True)
    return servers


def cmd_serve(args) -> int:
    servers = _start_servers()
    print(f">> 已就绪：POST {servers.rasa_url}/webhooks/rest/webhook   Ctrl-C 停止", flush=True)
    return servers.wait()


def cmd_telegram(args) -> int:
    if not os.environ.get("TELEGRAM_BOT_TOKEN"):
        return _fail("没有设置 TELEGRAM_BOT_TOKEN（见 README「在 Telegram 上部署」）")
    servers = _start_servers()
    print(">> 启动 Telegram 机器人（长轮询；设置 TELEGRAM_WEBHOOK_URL 则用 webhook）  Ctrl-C 停止", flush=True)
    servers.start_bot()
    return servers.wait()


def cmd_wecom(args) -> int:
    from bot.config import WECOM_REQUIRED

    missing = [name for name in WECOM_REQUIRED if not os.environ.get(name)]
    if missing:
        return _fail(f"没有设置 {'、'.join(missing)}（见 README「企业微信部署」）")
    servers = _start_servers()
    port, path = os.environ.get("WECOM_PORT", "8444"), os.environ.get("WECOM_PATH", "/wecom")
    print(f">> 启动企业微信前端（回调 http://{os.environ.get('WECOM_LISTEN', '127.0.0.1')}:{port}/{path.strip('/')}）"
          "  Ctrl-C 停止", flush=True)
    servers.start_bot("wecom")
    return servers.wait()


def cmd_run(args) -> int:
    from dataclasses import replace

    from actions.db.demo import DEMO_TELEGRAM_ID
    from actions.ops import ROOT, Servers, ensure_model
    from bot.config import relay_from_env
    from bot.terminal_app import chat

    model = ensure_model(quiet=True)
    rasa_port, actions_port = _ports()
    servers = Servers(model, rasa_port, actions_port, log_dir=ROOT / "var" / "log")
    servers.stop_on_signals()
    print(">> 启动动作服务器和 Rasa（约需十秒，日志在 var/log/）", flush=True)
    started = time.monotonic()
    try:
        servers.start()
        servers.supervise()  # a crashed server comes back by itself
        print(f">> 已就绪，启动用时 {time.monotonic() - started:.1f} 秒", flush=True)
        sender = os.environ.get("KAM_SHELL_SENDER", DEMO_TELEGRAM_ID)
        print(">> 你现在是演示客户经理李强。有选项时回复数字即可，输入 /quit 退出。")
        print("   试试：华中钢铁最近怎么样 / 明天去华钢帮我准备一下 / 我的客户有哪些风险\n", flush=True)
        return chat(replace(relay_from_env(servers.env), rasa_url=servers.rasa_url), sender)
    except KeyboardInterrupt:
        return 0
    finally:
        servers.stop_for_good()


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kam", description="大客户经理助手：数据库、演示数据、导入导出、知识库与服务")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("setup", help="迁移数据库；空库时导入演示数据")
    sp.add_argument("--customers", type=int, default=60)
    sp.add_argument("--seed", type=int, default=7)
    sp.set_defaults(func=cmd_setup)

    db = sub.add_parser("db", help="数据库").add_subparsers(dest="db_command", required=True)
    db.add_parser("init", help="迁移到最新版本").set_defaults(func=cmd_db_init)

    sp = sub.add_parser("demo", help="生成确定性的演示数据")
    sp.add_argument("--customers", type=int, default=60)
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--replace", action="store_true", help="清空现有数据后重建")
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("import", help="导入 CSV 文件夹或 .xlsx 工作簿（全部成功或全部不导入）")
    sp.add_argument("path")
    sp.add_argument("--replace", action="store_true", help="先清空客户数据再导入")
    sp.add_argument("--dry-run", action="store_true", help="只预演：逐行列出会改什么，不改数据库")
    sp.set_defaults(func=cmd_import)

    sp = sub.add_parser("export", help="导出一张表（CSV，或 --out x.xlsx）；all 导出全部")
    sp.add_argument("table")
    sp.add_argument("--out")
    sp.set_defaults(func=cmd_export)

    kb = sub.add_parser("kb", help="知识库").add_subparsers(dest="kb_command", required=True)
    kb.add_parser("check", help="校验知识库 YAML").set_defaults(func=cmd_kb_check)
    kb.add_parser("jieba", help="重新生成 jieba 自定义词典").set_defaults(func=cmd_kb_jieba)

    mg = sub.add_parser("manager", help="客户经理").add_subparsers(dest="mg_command", required=True)
    sp = mg.add_parser("bind-code", help="生成 Telegram/企业微信绑定码（24 小时有效，一次性）")
    sp.add_argument("manager_code")
    sp.set_defaults(func=cmd_bind_code)
    sp = mg.add_parser("wecom", help="设置或解除客户经理的企业微信 UserId")
    sp.add_argument("manager_code")
    sp.add_argument("user_id", nargs="?", help="企业微信通讯录里的账号（UserId）")
    sp.add_argument("--clear", action="store_true", help="解除企业微信绑定")
    sp.set_defaults(func=cmd_manager_wecom)

    rp = sub.add_parser("report", help="报表").add_subparsers(dest="report_command", required=True)
    sp = rp.add_parser("visits", help="拜访周报：本周拜访、超周期未拜访的客户、逾期跟进")
    sp.add_argument("--week", action="store_true", help="按周（默认，也是目前唯一的周期）")
    sp.add_argument("--date", help="周内任一天，默认今天")
    sp.add_argument("--manager", help="只看这位客户经理（编码）")
    sp.add_argument("--out", help="写到文件")
    sp.set_defaults(func=cmd_report_visits)

    sp = sub.add_parser("train", help="训练模型（已是最新则跳过）")
    sp.add_argument("--force", action="store_true")
    sp.set_defaults(func=cmd_train)
    sub.add_parser("serve", help="前台启动 Rasa 和动作服务器").set_defaults(func=cmd_serve)
    sub.add_parser("run", help="启动两个服务器并打开终端对话").set_defaults(func=cmd_run)
    sub.add_parser("telegram", help="启动两个服务器和 Telegram 机器人").set_defaults(func=cmd_telegram)
    sub.add_parser("wecom", help="启动两个服务器和企业微信前端").set_defaults(func=cmd_wecom)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("KAM_LOG_LEVEL", "WARNING"))
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kam export customers | head`
        sys.stderr.close()
        return 0
    except Exception as e:  # a clear line, not a traceback, for operators
        from sqlalchemy.exc import OperationalError

        if isinstance(e, OperationalError):
            from actions.db.session import database_url, redact

            return _fail(f"连不上数据库 {redact(database_url())}：{e.orig}")
        raise


if __name__ == "__main__":
    sys.exit(main())

