"""`make bench`: latency and throughput over the REST webhook, on SQLite and on PostgreSQL.

For each database: a CRM of 10,000 customers (24 months of billing each) shared by 50 simulated
managers; the action server and Rasa started as `make serve` does; then 1, 10 and 50 concurrent
managers send, per scenario, 你好 (rule-only), customer_status, visit_brief, bundle_offer, and
log_visit + 保存. Prints p50/p95/p99 and throughput, start-up times, resident memory of each
process, the training time of the model, and the customer_status / 你好 ratio. Only 127.0.0.1.

    .venv/bin/python scripts/bench_rest.py [--customers 10000] [--db sqlite,postgresql] [--requests 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import select, update

from actions.db import demo, migrate
from actions.db.models import Customer, Manager
from actions.db.session import dispose_all, session_scope
from actions.ops import ROOT, Servers, ensure_model, free_port

MANAGERS = 50
# The servers run with the production setting, not the tests' (tests/conftest.py sets it to 0 when
# imported for create_pg_database, which made every PostgreSQL message re-check the customer index).
DIRECTORY_TTL = os.environ.get("KAM_DIRECTORY_TTL", "2")
SCENARIOS = ("你好", "customer_status", "visit_brief", "bundle_offer", "log_visit+保存")


def prepare(url: str, customers: int) -> tuple[float, dict[str, list[str]]]:
    migrate.upgrade(url)
    t = time.perf_counter()
    with session_scope(url) as s:
        demo.load(s, demo.build(customers=customers, seed=11))
    seconds = time.perf_counter() - t
    names: dict[str, list[str]] = {}
    with session_scope(url) as s:
        team = "压测组"
        ids = []
        for i in range(MANAGERS):
            m = Manager(code=f"B{i:03d}", name=f"压测经理{i}", team=team, role="manager", telegram_user_id=str(50_000 + i))
            s.add(m)
            s.flush()
            ids.append(m.id)
        rows = s.execute(select(Customer.id, Customer.name).order_by(Customer.id)).all()
        for k, (cid, name) in enumerate(rows):
            mid = ids[k % MANAGERS]
            s.execute(update(Customer).where(Customer.id == cid).values(manager_id=mid))
            names.setdefault(str(50_000 + k % MANAGERS), []).append(name)
    return seconds, names


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def post(client: httpx.AsyncClient, url: str, sender: str, text: str) -> float:
    t = time.perf_counter()
    r = await client.post(url, json={"sender": sender, "message": text})
    r.raise_for_status()
    if not r.json():
        raise RuntimeError(f"empty reply to {text!r}")
    return (time.perf_counter() - t) * 1000


async def reset(base: str, senders: list[str]) -> None:
    """Start every measured scenario from a fresh conversation, so tracker length is the same."""
    async with httpx.AsyncClient(timeout=60) as client:
        for sender in senders:
            r = await client.put(f"{base}/conversations/{sender}/tracker/events", json=[],
                                 params={"token": os.environ.get("RASA_AUTH_TOKEN", "")})
            r.raise_for_status()


async def run_level(base: str, names: dict[str, list[str]], scenario: str, concurrency: int, total: int) -> dict:
    url = f"{base}/webhooks/rest/webhook"
    senders = list(names)[:max(concurrency, 1)]
    await reset(base, senders)
    rng = random.Random(concurrency)
    times: list[float] = []
    errors: list[str] = []
    queue = list(range(total))

    async def worker(client: httpx.AsyncClient, sender: str):
        while queue:
            queue.pop()
            name = rng.choice(names[sender])
            try:
                await one(client, sender, name)
            except (httpx.HTTPError, RuntimeError) as e:  # counted and reported, never hidden
                errors.append(f"{type(e).__name__}: {e}")

    async def one(client: httpx.AsyncClient, sender: str, name: str):
        if scenario == "你好":
            times.append(await post(client, url, sender, "你好"))
        elif scenario == "customer_status":
            times.append(await post(client, url, sender, f"{name}最近怎么样"))
        elif scenario == "visit_brief":
            times.append(await post(client, url, sender, f"明天去{name} 帮我准备一下"))
        elif scenario == "bundle_offer":
            times.append(await post(client, url, sender, f"{name}适合什么套餐"))
        else:
            note = f"刚拜访了{name} 聊了专线扩容 下周三前给报价 #{rng.randint(0, 10**9)}"
            a = await post(client, url, sender, note)
            b = await post(client, url, sender, "/affirm")
            times.append(a + b)

    # One client with a connection per simulated manager: the load generator shares the same two
    # cores, so it should cost as little as it can (fifty separate clients cost 9 ms a request).
    limits = httpx.Limits(max_connections=len(senders), max_keepalive_connections=len(senders))
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        t = time.perf_counter()
        await asyncio.gather(*(worker(client, s) for s in senders))
        wall = time.perf_counter() - t
    if not times:
        return {"p50": 0, "p95": 0, "p99": 0, "rps": 0, "n": 0, "errors": len(errors), "error_samples": errors[:3]}
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "p99": pct(times, 0.99), "rps": len(times) / wall,
            "n": len(times), "errors": len(errors), "error_samples": errors[:3]}


def bench_db(kind: str, customers: int, requests: int, model: Path) -> dict:
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    if kind == "sqlite":
        path = ROOT / "var" / "bench" / "crm.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        from conftest import create_pg_database

        url = create_pg_database()
    out: dict = {"db": kind}
    try:
        out["demo_seconds"], names = prepare(url, customers)
        servers = Servers(model, free_port(), free_port(), env={"DATABASE_URL": url, "KAM_DIRECTORY_TTL": DIRECTORY_TTL}, log_dir=ROOT / "var" / "log" / "bench",
                          var_dir=ROOT / "var" / "bench")
        os.environ["RASA_AUTH_TOKEN"] = servers.auth_token  # reset() uses Rasa's HTTP API
        t = time.perf_counter()
        servers.start_actions()
        out["actions_start_s"] = time.perf_counter() - t
        t = time.perf_counter()
        servers.start_rasa()
        out["rasa_start_s"] = time.perf_counter() - t
        try:
            base = servers.rasa_url
            # warm-up: customer index, connection pools, the note extractor (as after a morning's use)
            asyncio.run(run_level(base, names, "customer_status", MANAGERS, MANAGERS))
            asyncio.run(run_level(base, names, "log_visit+保存", 2, 2))
            results = {}
            for scenario in SCENARIOS:
                for level in (1, 10, 50):
                    n = requests if scenario != "log_visit+保存" else max(10, requests // 2)
                    results[f"{scenario}@{level}"] = asyncio.run(run_level(base, names, scenario, level, n))
                    r = results[f"{scenario}@{level}"]
                    print(f"  {kind:10s} {scenario:16s} {level:>2} 并发  p50 {r['p50']:7.1f}  p95 {r['p95']:7.1f}  "
                          f"p99 {r['p99']:7.1f} ms   {r['rps']:5.1f} 次/秒  (n={r['n']}, 错误 {r['errors']})", flush=True)
            out["results"] = results
            out["rss_mib"] = {"rasa": rss_mib(servers.rasa.pid), "actions": rss_mib(servers.actions.pid)}
        finally:
            servers.stop()
    finally:
        dispose_all()
        if kind == "postgresql":
            from conftest import drop_pg_database

            drop_pg_database(url)
    return out


def machine() -> str:
    mem = next((int(x.split()[1]) // 1024 for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} CPU cores, {mem / 1024:.0f} GiB RAM, Python {platform.python_version()}"


def write_markdown(report: list[dict], train: dict) -> None:
    """docs/bench-latest.md: the raw figures of the last run (docs/performance.md explains them)."""
    lines = [f"# Latest `make bench` run ({date.today():%Y-%m-%d})", "",
             f"Machine: {machine()}. Model training: {train.get('train_seconds', '?')} s. Times in ms; see docs/performance.md.", ""]
    for r in report:
        lines += [f"## {r['db']}", "",
                  f"Demo data {r['demo_seconds']:.1f} s; action server start {r['actions_start_s']:.1f} s; "
                  f"Rasa start {r['rasa_start_s']:.1f} s; RSS Rasa {r['rss_mib']['rasa']:.0f} MiB, "
                  f"action server {r['rss_mib']['actions']:.0f} MiB", "",
                  "| scenario | concurrent | p50 | p95 | p99 | req/s | n | errors |", "|---|---|---|---|---|---|---|---|"]
        for key, v in r["results"].items():
            scenario, level = key.rsplit("@", 1)
            lines.append(f"| {scenario} | {level} | {v['p50']:.0f} | {v['p95']:.0f} | {v['p99']:.0f} | "
                         f"{v['rps']:.1f} | {v['n']} | {v['errors']} |")
        for level in (1, 10, 50):
            s, h = r["results"][f"customer_status@{level}"], r["results"][f"你好@{level}"]
            lines.append(f"\ncustomer_status / 你好 at {level}: p95 ratio {s['p95'] / h['p95']:.2f}")
        lines.append("")
    (ROOT / "docs" / "bench-latest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--requests", type=int, default=60, help="requests per scenario and level")
    args = ap.parse_args()
    model = ensure_model(quiet=True)
    meta = model.with_suffix("").with_suffix(".json")
    train = json.loads(meta.read_text()) if meta.exists() else {}
    print(f"{date.today():%Y-%m-%d}，{machine()}")
    print(f"模型 {model.name}；训练用时 {train.get('train_seconds', '未记录')} 秒")
    report = []
    for kind in args.db.split(","):
        print(f"== {kind}: {args.customers:,} 个客户、{MANAGERS} 个模拟客户经理", flush=True)
        r = bench_db(kind, args.customers, args.requests, model)
        print(f"  生成数据 {r['demo_seconds']:.1f} 秒；动作服务器启动 {r['actions_start_s']:.1f} 秒；"
              f"Rasa 启动 {r['rasa_start_s']:.1f} 秒；内存 Rasa {r['rss_mib']['rasa']:.0f} MiB、"
              f"动作服务器 {r['rss_mib']['actions']:.0f} MiB")
        for level in (1, 10, 50):
            s, h = r["results"][f"customer_status@{level}"], r["results"][f"你好@{level}"]
            print(f"  {level:>2} 并发：customer_status p95 / 你好 p95 = {s['p95'] / h['p95']:.2f}（p50 比 {s['p50'] / h['p50']:.2f}）")
        report.append(r)
    write_markdown(report, train)
    out = ROOT / "var" / "bench" / "last.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"train": train, "runs": report}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"→ {out}")


if __name__ == "__main__":
    main()
