"""How long a new user waits: `make run` until the chat prompt (你：), as a new user would start it.

    .venv/bin/python scripts/bench_start.py           # this checkout: a later `make run` (model trained)
    .venv/bin/python scripts/bench_start.py --fresh   # a fresh clone in a temporary folder: venv,
                                                      # pinned dependencies, demo data, training, start

Runs `make run` under a pseudo-terminal (the terminal chat needs one), on free ports, prints each
stage line with the second it appeared, the total, and quits the chat with /quit. The pip cache of
this machine is used as any developer's would be; nothing is downloaded that is not pinned.
"""

from __future__ import annotations

import argparse
import os
import platform
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "你："
STAGES = re.compile(r"^(>>.*|.*用时.*|.*训练.*)$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_make_run(folder: Path, limit: float) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECOM_", "VIRTUAL_ENV"))}
    env.update(RASA_PORT=str(free_port()), ACTIONS_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    pid, fd = pty.fork()
    if pid == 0:  # the child: make run in the folder, on the terminal
        os.chdir(folder)
        os.execvpe("make", ["make", "run"], env)
    started = time.monotonic()
    buffer, seen = "", 0
    try:
        while time.monotonic() - started < limit:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096).decode("utf-8", "replace")
            except OSError:
                break
            buffer += chunk
            lines = buffer.split("\n")
            for line in lines[seen:-1]:
                if STAGES.match(line.strip()):
                    print(f"  {time.monotonic() - started:6.1f} s  {line.strip()}", flush=True)
            seen = len(lines) - 1
            if PROMPT in lines[-1] or any(PROMPT in x for x in lines[-3:]):
                took = time.monotonic() - started
                os.write(fd, b"/quit\n")
                return took
        raise SystemExit(f"no chat prompt within {limit:.0f} s; last output:\n{buffer[-2000:]}")
    finally:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.5)
        else:
            os.kill(pid, 15)
        os.close(fd)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fresh", action="store_true", help="clone this repository into a temporary folder first")
    ap.add_argument("--limit", type=float, default=900, help="seconds to wait for the prompt")
    args = ap.parse_args()
    print(f"{date.today():%Y-%m-%d}, {os.cpu_count()} CPU cores, Python {platform.python_version()} (this script)")
    if not args.fresh:
        took = time_make_run(ROOT, args.limit)
        print(f"later `make run` → chat prompt: {took:.1f} s")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="kam-fresh-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(tmp / "kam")], check=True)
        took = time_make_run(tmp / "kam", args.limit)
        print(f"first `make run` in a fresh clone → chat prompt: {took:.1f} s")
        again = time_make_run(tmp / "kam", args.limit)
        print(f"second `make run` in that clone → chat prompt: {again:.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
