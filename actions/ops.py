"""Model fingerprinting/training and the process launcher behind `kam train|serve|run`.

The end-to-end tests use the same `Servers` class, so what they exercise is what `make serve` runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "actions/kb/jieba")


def _files(root: Path) -> list[Path]:
    out = []
    for rel in TRAINING_INPUTS:
        p = root / rel
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(x for x in p.rglob("*") if x.is_file() and not x.name.startswith(".")))
    return out


def fingerprint(root: Path = ROOT) -> str:
    h = hashlib.sha256()
    for f in _files(root):
        h.update(str(f.relative_to(root)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def model_path(root: Path = ROOT) -> Path:
    return root / "models" / f"kam-{fingerprint(root)}.tar.gz"


def rasa_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONWARNINGS", "ignore")
    env.update(extra)
    return env


def ensure_model(force: bool = False, root: Path = ROOT, quiet: bool = False) -> Path:
    """Train unless a model for exactly the current data/config/dictionary exists."""
    target = model_path(root)
    if target.exists() and not force:
        if not quiet:
            print(f">> 模型已是最新：{target.relative_to(root)}")
        return target
    target.parent.mkdir(exist_ok=True)
    print(">> 训练 Rasa 模型（约需几分钟，数据或配置有改动时才会重训）", flush=True)
    started = time.monotonic()
    cmd = [
        sys.executable, "-m", "rasa", "train",
        "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
        "--out", str(target.parent), "--fixed-model-name", target.name.removesuffix(".tar.gz"),
        "--force", "--quiet",
    ]
    result = subprocess.run(cmd, cwd=root, env=rasa_env())
    if result.returncode != 0 or not target.exists():
        raise SystemExit("错误：rasa train 失败，见上面的输出")
    seconds = time.monotonic() - started
    target.with_suffix("").with_suffix(".json").write_text(
        json.dumps({"train_seconds": round(seconds, 1), "trained_at": time.strftime("%Y-%m-%d %H:%M")}), encoding="utf-8"
    )
    print(f">> 训练完成，用时 {seconds:.0f} 秒：{target.relative_to(root)}", flush=True)
    for old in sorted(target.parent.glob("kam-*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-2]:
        if old != target:
            old.unlink(missing_ok=True)
            old.with_suffix("").with_suffix(".json").unlink(missing_ok=True)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"进程已退出（退出码 {proc.returncode}）：{url}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"等待 {url} 超时（{timeout:.0f} 秒）")


class Servers:
    """The action server and the Rasa server as child processes."""

    def __init__(
        self,
        model: Path,
        rasa_port: int = 5005,
        actions_port: int = 5055,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        endpoints: str = "endpoints.yml",
    ):
        self.model, self.rasa_port, self.actions_port = model, rasa_port, actions_port
        self.env = rasa_env(
            ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}/webhook", **(env or {})
        )
        self.log_dir = log_dir
        self.endpoints = endpoints
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.bot: subprocess.Popen | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _popen(self, name: str, cmd: list[str]) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )

    def start_actions(self, timeout: float = 120) -> None:
        self.actions = self._popen(
            "actions",
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.actions_port)],
        )
        wait_http(f"http://127.0.0.1:{self.actions_port}/health", timeout, self.actions)

    def start_rasa(self, timeout: float = 240) -> None:
        self.rasa = self._popen(
            "rasa",
            [
                sys.executable, "-m", "actions.rasa_launcher", "run", "--enable-api", "--model", str(self.model),
                "--port", str(self.rasa_port), "--endpoints", self.endpoints,
                "--credentials", "credentials.yml", "--interface", "127.0.0.1",
            ],
        )
        wait_http(f"{self.rasa_url}/status", timeout, self.rasa)
        # /status answers before the model is loaded; wait until it is.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                if httpx.get(f"{self.rasa_url}/status", timeout=2).json().get("model_file"):
                    return
            time.sleep(0.5)

    def stop_on_signals(self) -> None:
        """SIGTERM/SIGHUP (systemd stop, closed terminal) stop both children, like Ctrl-C."""

        def handler(signum, _frame):
            raise KeyboardInterrupt

        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, handler)

    def start_bot(self, channel: str = "telegram") -> None:
        """A chat front end (python -m bot telegram|wecom), relaying to this Rasa server."""
        self.env["RASA_URL"] = self.rasa_url
        self.bot = self._popen("bot", [sys.executable, "-m", "bot", channel])

    def start(self) -> Servers:
        self.start_actions()
        self.start_rasa()
        return self

    @staticmethod
    def _stop(proc: subprocess.Popen | None) -> None:
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_rasa(self) -> None:
        self._stop(self.rasa)

    def stop_actions(self) -> None:
        self._stop(self.actions)

    def stop(self) -> None:
        self._stop(self.bot)
        self.stop_rasa()
        self.stop_actions()

    def wait(self) -> int:
        """Foreground mode: return when either process ends or on Ctrl-C, stopping both."""
        try:
            while True:
                for p in (self.actions, self.rasa, self.bot):
                    if p is not None and p.poll() is not None:
                        return p.returncode or 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\n>> 正在停止……", flush=True)
            return 0
        finally:
            self.stop()
