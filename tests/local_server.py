"""Test doubles' plumbing: an aiohttp app on a free local port, in its own thread and event loop."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class LocalServer:
    def __init__(self, app: web.Application):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = 0

    def start(self) -> LocalServer:
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.runner = web.AppRunner(self.app)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)
        return self

    def stop(self, before=None) -> None:
        """Stop serving; `before` is a coroutine run first in the server's loop."""
        async def shutdown():
            if before is not None:
                await before
            await self.runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class InThread:
    """Runs `serve()` in its own thread and event loop: `serve` sets things up, calls
    `self.ready.set()`, awaits `self.stopping.wait()` and tears down."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    async def serve(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self):
        async def main():
            self.stopping = asyncio.Event()
            await self.serve()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(main())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self.ready.wait(30), f"{type(self).__name__} did not start"
        return self

    def call(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self):
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(30)
