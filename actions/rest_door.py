"""The REST door: Rasa's REST channel with its input checked (credentials.yml names it).

POST /webhooks/rest/webhook {"sender": "<id>", "message": "<text>", "metadata": {...}}

The contract (shared with the front ends, which sign what they send):
- a body that is not a JSON object, a `sender` that is not a non-empty string or number, a
  `message` that is not a string, `metadata` that is not an object → HTTP 400 with a short JSON
  error `{"error": "…"}`; never a 500 and never silence;
- control characters (Unicode category Cc, NUL included) other than "\\n" and "\\t" are removed
  from the text, then surrounding white space (as Rasa does);
- text longer than KAM_NLU_MAX_CHARS (default 500) reaches the NLU only up to that many
  characters; the complete cleaned text then travels in metadata `kam_full_text`;
- a client-supplied `kam_full_text` is always dropped;
- an empty message gets a Chinese reply asking for text;
- when Rasa fails to answer (an exception, a timeout), the reply is the Chinese
  「暂时不可用」 message, with HTTP 200, so every front end shows it;
- message text is never written to the log (Rasa's own REST channel logs it on failure).

Nothing imports Rasa at module level: rasa-sdk imports every module of the `actions` package, so
the channel classes are built on first use (`KamRestInput`, `KamCmdlineInput` via __getattr__).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import unicodedata

log = logging.getLogger("kam.rest_door")

FULL_TEXT_KEY = "kam_full_text"
DEFAULT_MAX_CHARS = 500
MAX_BODY_BYTES = 1_000_000
UNAVAILABLE = "助手暂时不可用（后台服务正在恢复），请过一两分钟再发一次。这条消息没有处理。"
EMPTY = "消息是空的，请直接输入文字，比如「华中钢铁最近怎么样」。"
_KEEP = {"\n", "\t"}


class BadRequest(ValueError):
    """The body breaks the contract: answered with HTTP 400 and this (short, Chinese) reason."""


def max_chars() -> int:
    try:
        return max(1, int(os.environ.get("KAM_NLU_MAX_CHARS", DEFAULT_MAX_CHARS)))
    except ValueError:
        return DEFAULT_MAX_CHARS


def clean_text(text: str) -> str:
    """Remove control characters (category Cc) except newline and tab; trim as Rasa does."""
    return "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) != "Cc").strip()


def parse_body(raw: bytes) -> tuple[str, str, dict]:
    """sender, cleaned text for the NLU, metadata (with kam_full_text when the text was cut)."""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest("请求体太大")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("请求体不是合法的 JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象")
    sender = body.get("sender")
    if isinstance(sender, bool) or not isinstance(sender, str | int) or not str(sender).strip():
        raise BadRequest("sender 应为非空字符串")
    sender = str(sender).strip()
    if len(sender) > 128:
        raise BadRequest("sender 太长")
    text = body.get("message")
    if not isinstance(text, str):
        raise BadRequest("message 应为字符串")
    metadata = body.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise BadRequest("metadata 应为 JSON 对象")
    try:
        (text + sender).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("文本不是合法的 Unicode") from None
    metadata = {k: v for k, v in metadata.items() if k != FULL_TEXT_KEY}
    cleaned = clean_text(text)
    cap = max_chars()
    if len(cleaned) > cap:
        metadata[FULL_TEXT_KEY] = cleaned
        cleaned = cleaned[:cap]
    return sender, cleaned, metadata


def _build_classes() -> dict:
    import asyncio

    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.channels.rest import RestInput
    from rasa.utils.endpoints import bool_arg
    from sanic import Blueprint, response

    class KamRestInput(RestInput):
        """Rasa's REST channel (same URL, same answers) behind the checks above."""

        @classmethod
        def name(cls) -> str:
            return "rest"

        def blueprint(self, on_new_message):
            bp = Blueprint(f"kam_webhook_{type(self).__name__}", __name__)

            @bp.route("/", methods=["GET"])
            async def health(request):
                return response.json({"status": "ok"})

            @bp.route("/webhook", methods=["POST"])
            async def receive(request):
                try:
                    sender, text, metadata = parse_body(request.body or b"")
                except BadRequest as e:
                    log.info("rest door: refused a request: %s", e)
                    return response.json({"error": str(e)}, status=400)
                if not text:
                    return response.json([{"recipient_id": sender, "text": EMPTY}])
                if bool_arg(request, "stream", default=False):  # `rasa shell` (kam run) reads a stream
                    return response.stream(
                        self.stream_response(on_new_message, text, sender, self.name(), metadata),
                        content_type="text/event-stream",
                    )
                collector = CollectingOutputChannel()
                _freeze_startup_objects()
                try:
                    async with _turns():  # first come, first served: a few messages at a time
                        await on_new_message(
                            UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
                        )
                except asyncio.CancelledError:
                    log.error("rest door: timed out answering sender %s", sender)
                except Exception as e:  # noqa: BLE001 - answered below; the text is never logged
                    log.error("rest door: %s while answering sender %s", type(e).__name__, sender)
                if not collector.messages:
                    return response.json([{"recipient_id": sender, "text": UNAVAILABLE}])
                return response.json(collector.messages)

            return bp

    class KamCmdlineInput(KamRestInput):
        """`rasa shell`'s channel (kam run) with the same checks: name cmdline, URL /webhooks/rest."""

        @classmethod
        def name(cls) -> str:
            return "cmdline"

        def url_prefix(self) -> str:
            return "rest"

    return {"KamRestInput": KamRestInput, "KamCmdlineInput": KamCmdlineInput}


_classes: dict = {}
_limit: list = []


def _freeze_startup_objects() -> None:
    """Once, on the first message: the model and the libraries loaded at start-up (hundreds of
    thousands of objects) leave the garbage collector's view, so its passes stay short."""
    if not _frozen:
        import gc

        gc.collect()
        gc.freeze()
        _frozen.append(True)


_frozen: list = []


def _turns():
    """At most KAM_CONCURRENT_MESSAGES (default 4) messages are worked on at once; the others wait
    in arrival order. On two cores, fifty interleaved messages each got slower and the last waited
    longest (p95 2.5× the median); in turn, every message waits its fair share and no more."""
    if not _limit:
        _limit.append(asyncio.Semaphore(max(1, int(os.environ.get("KAM_CONCURRENT_MESSAGES", "4")))))
    return _limit[0]


def __getattr__(name: str):
    if name in ("KamRestInput", "KamCmdlineInput"):
        if not _classes:
            _classes.update(_build_classes())
        return _classes[name]
    raise AttributeError(name)
