"""Model fingerprinting/training and the process launcher behind `kam train|serve|run`.

The end-to-end tests use the same `Servers` class, so what they exercise is what `make serve` runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
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
    print(">> 训练 Rasa 模型（约需一分钟，数据或配置有改动时才会重训）", flush=True)
    started = time.monotonic()
    cmd = [
        sys.executable, "-m", "actions.rasa_launcher", "train",
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


def private_file(path: Path) -> None:
    """Create an empty file only its owner can read (SQLite keeps the mode for the file and its journal)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def auth_token(var_dir: Path) -> str:
    """RASA_AUTH_TOKEN when set; otherwise a random token kept in var/rasa_auth_token (mode 600)."""
    token = os.environ.get("RASA_AUTH_TOKEN")
    if token:
        return token
    path = Path(var_dir) / "rasa_auth_token"
    with contextlib.suppress(FileNotFoundError):
        token = path.read_text(encoding="utf-8").strip()
        if token:
            os.chmod(path, 0o600)
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(32)  # never begins with "-" (a command-line option)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    os.chmod(path, 0o600)
    return token


class Servers:
    """The action server and the Rasa server (and the bot) as child processes.

    - Rasa's HTTP API always needs the token (`auth_token`), passed to Rasa and to our own
      clients (the bot) as RASA_AUTH_TOKEN; the REST channel needs none.
    - Conversations live in Rasa's SQL tracker store: a SQLite file (KAM_TRACKER_DB, default
      var/tracker.db) with endpoints.yml, PostgreSQL with deploy/endpoints.yml.
    - `supervise()` restarts a process that dies, with back-off (1, 2, 4 … 60 s), and says so;
      a process stopped on purpose (stop_rasa(), stop_actions()) stays stopped until started again.
    """

    NAMES = {"actions": "动作服务器", "rasa": "Rasa", "bot": "机器人"}

    def __init__(
        self,
        model: Path,
        rasa_port: int = 5005,
        actions_port: int = 5055,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        endpoints: str = "endpoints.yml",
        var_dir: Path | None = None,
    ):
        self.model, self.rasa_port, self.actions_port = model, rasa_port, actions_port
        self.var_dir = Path(var_dir) if var_dir is not None else ROOT / "var"
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.env = rasa_env(ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}/webhook")
        self.env.setdefault("KAM_TRACKER_DB", str(self.var_dir / "tracker.db"))
        self.env.update(env or {})
        private_file(Path(self.env["KAM_TRACKER_DB"]))  # it holds every message text
        self.auth_token = self.env.get("RASA_AUTH_TOKEN") or auth_token(self.var_dir)
        self.env["RASA_AUTH_TOKEN"] = self.auth_token
        self.log_dir = log_dir
        self.endpoints = endpoints
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.bot: subprocess.Popen | None = None
        self.restarts: dict[str, int] = {}
        self._commands: dict[str, list[str]] = {}
        self._held: set[str] = set()  # stopped on purpose: not restarted
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def say(self, message: str) -> None:
        """The launcher's log: the console, and launcher.log when there is a log folder."""
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} [kam] {message}"
        print(line, file=sys.stderr, flush=True)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with (self.log_dir / "launcher.log").open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def _popen(self, name: str, cmd: list[str]) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        with self._lock:
            if self._stopping.is_set() or name in self._held:
                raise RuntimeError(f"{self.NAMES.get(name, name)}已被要求停止")
            self._commands[name] = cmd
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
                start_new_session=True,
            )
            setattr(self, name, proc)
        if out is not None:
            out.close()  # the child has its own copy
        return proc

    def start_actions(self, timeout: float = 120) -> None:
        self._held.discard("actions")
        self._start_actions(timeout)

    def _start_actions(self, timeout: float = 120) -> None:
        proc = self._popen(
            "actions", [sys.executable, "-m", "actions.action_server", "--port", str(self.actions_port)]
        )
        wait_http(f"http://127.0.0.1:{self.actions_port}/health", timeout, proc)

    def start_rasa(self, timeout: float = 240) -> None:
        self._held.discard("rasa")
        self._start_rasa(timeout)

    def _start_rasa(self, timeout: float = 240) -> None:
        # actions.rasa_launcher turns RASA_AUTH_TOKEN (in self.env) into --auth-token.
        proc = self._popen(
            "rasa",
            [
                sys.executable, "-m", "actions.rasa_launcher", "run", "--enable-api", "--model", str(self.model),
                "--port", str(self.rasa_port), "--endpoints", self.endpoints,
                "--credentials", "credentials.yml", "--interface", "127.0.0.1",
            ],
        )
        wait_http(f"{self.rasa_url}/status?token={self.auth_token}", timeout, proc)
        # /status answers before the model is loaded; wait until it is.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"Rasa 已退出（退出码 {proc.returncode}）")
            with contextlib.suppress(httpx.HTTPError, ValueError):
                status = httpx.get(f"{self.rasa_url}/status", params={"token": self.auth_token}, timeout=2)
                if status.json().get("model_file"):
                    return
            time.sleep(0.5)
        raise TimeoutError(f"Rasa 在 {timeout:.0f} 秒内没有加载好模型")

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

    # ------------------------------------------------------------ supervision
    def _restart(self, name: str) -> None:
        if name == "actions":
            self._start_actions()
        elif name == "rasa":
            self._start_rasa()
        else:  # the bot: the same command line as before
            self._popen(name, self._commands[name])

    def supervise(self, poll: float = 0.5) -> None:
        """Restart whatever dies, in a background thread, until stop()."""
        if self._supervisor is not None:
            return
        self._supervisor = threading.Thread(target=self._supervise, args=(poll,), name="kam-supervisor", daemon=True)
        self._supervisor.start()

    def _supervise(self, poll: float) -> None:
        started = {name: time.monotonic() for name in self.NAMES}
        failures = dict.fromkeys(self.NAMES, 0)
        while not self._stopping.wait(poll):
            for name, label in self.NAMES.items():
                proc = getattr(self, name)
                if proc is None or proc.poll() is None or self._stopping.is_set() or name in self._held:
                    continue
                if time.monotonic() - started[name] > 60:
                    failures[name] = 0  # it had been running fine: start again from a short delay
                failures[name] += 1
                delay = min(60, 2 ** (failures[name] - 1))
                self.say(f"{label}意外退出（退出码 {proc.returncode}），{delay} 秒后第 {failures[name]} 次重启")
                if self._stopping.wait(delay):
                    return
                if name in self._held:
                    continue
                try:
                    self._restart(name)
                except Exception as e:  # noqa: BLE001 - keep trying, with a longer delay
                    if self._stopping.is_set():
                        return
                    if name in self._held:
                        continue
                    self.say(f"{label}重启失败：{type(e).__name__}: {e}")
                    continue
                finally:
                    started[name] = time.monotonic()
                self.say(f"{label}已重启")
                self.restarts[name] = self.restarts.get(name, 0) + 1  # after the log line: a reader of the count finds it there

    # ------------------------------------------------------------ stopping
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

    def _hold_and_stop(self, name: str) -> None:
        with self._lock:
            self._held.add(name)
        self._stop(getattr(self, name))

    def stop_rasa(self) -> None:
        """Stop Rasa on purpose: it is not restarted until start_rasa()."""
        self._hold_and_stop("rasa")

    def stop_actions(self) -> None:
        """Stop the action server on purpose: it is not restarted until start_actions()."""
        self._hold_and_stop("actions")

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        self._stop(self.bot)
        self.stop_rasa()
        self.stop_actions()
        if self._supervisor is not None:
            self._supervisor.join(timeout=30)
            self._stop(self.rasa)  # anything it started while we were stopping
            self._stop(self.actions)
            self._stop(self.bot)

    def stop_for_good(self) -> None:
        """stop(), deaf to further Ctrl-C/SIGTERM: a second signal (an impatient Ctrl-C, `timeout`
        signalling both the process and its group) must not leave the children running."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
        self.stop()

    def wait(self) -> int:
        """Foreground mode: supervise (restart what dies) until Ctrl-C or a signal, then stop all."""
        self.supervise()
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\n>> 正在停止……", flush=True)
            return 0
        finally:
            self.stop_for_good()
