"""Benchmark: customer resolution over N demo customers (default 10,000). Prints figures.

    .venv/bin/python scripts/bench_resolver.py [--customers 10000]

Builds the demo rows in memory (no database), builds the index, then resolves a mix of realistic
messages (exact, glued, typo, pinyin, prefix, no customer) for the demo manager and for an admin.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from actions.core.resolver import CustomerIndex, Entry, viewer_filter
from actions.db.demo import build

MESSAGES = [
    "华中钢铁最近怎么样", "刚见了华钢周主任", "华中钢贴最近", "hzgt合同啥时候到期", "huazhonggangtie",
    "东湖最近咋样", "我的客户有哪些风险", "明天去江城银行 帮我准备一下", "今天要跟进谁",
    "今天上午拜访了华中钢铁张总和信息科王科长 聊了5G专网和云桌面 他们嫌专线贵 移动给的报价低两成 下周三前给个方案",
]


def quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    rows = build(customers=args.customers, seed=3)
    teams = {m["id"]: m["team"] for m in rows["managers"]}
    def make():
        return CustomerIndex(
            (Entry(c["id"], c["name"], c["manager_id"], teams[c["manager_id"]]), [a for a in c["aliases"].split("|") if a])
            for c in rows["customers"]
        )

    t0 = time.perf_counter()
    index = make()
    build_s = time.perf_counter() - t0
    tracemalloc.start()
    make()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"customers: {len(index):,}   index build: {build_s:.2f} s   peak memory while building: {peak / 2**20:.0f} MiB")
    for label, viewer in (("manager M001", viewer_filter("manager", 2, "政企一部")), ("admin", viewer_filter("admin", 1, ""))):
        times = []
        for _ in range(args.rounds):
            for m in MESSAGES:
                t = time.perf_counter()
                index.resolve(m, viewer)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(f"{label:13s} resolve per message: mean {statistics.mean(times):.3f} ms  "
              f"p50 {quantile(times, 0.5):.3f}  p95 {quantile(times, 0.95):.3f}  "
              f"p99 {quantile(times, 0.99):.3f}  max {times[-1]:.3f} ms  (n={len(times)})")


if __name__ == "__main__":
    main()
