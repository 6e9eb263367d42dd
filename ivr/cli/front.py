"""The buffering front of every web process: slow or oversized clients never hold a thread.

``ivr serve`` runs gunicorn with an asyncio (uvicorn) worker. Each connection is a cheap
coroutine until its request is whole: the headers must arrive within a time limit, the
body is read into memory (never a temporary file) with a per-route cap and an idle limit,
and only then is the complete request handed to the Flask app in a thread (a2wsgi). A
form post whose one-time token (in its query string) is not ours is answered before a
byte of its body is read, as is a second post of a token whose first is still arriving;
and once a grace period has passed, a body must keep up a minimum rate. Ten stalled
uploads, or fifty, cost sockets, not threads, so the webhooks and ``/healthz`` keep
answering; and a few trickling uploads cannot hold the form's memory for long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]  # no py.typed

from ivr.online.guard import UNREAD_KEY

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Headers that say something about the sender: dropped before a private route sees them.
SENDER_HEADERS = frozenset(
    {
        b"user-agent",
        b"referer",
        b"cookie",
        b"x-forwarded-for",
        b"x-real-ip",
        b"forwarded",
        b"true-client-ip",
        b"cf-connecting-ip",
        b"via",
    }
)


@dataclass
class Budget:
    """Bytes of request bodies this process holds at once, for the routes that share it."""

    limit: int
    held: int = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


@dataclass(frozen=True)
class Route:
    """What the front allows a path prefix: a body cap, a gate and whether it is private."""

    prefix: str
    max_bytes: int
    # Called with the query string of a request that carries a body: the one-time id of
    # the form it names, or None if that is not ours (its body is then never read).
    gate: Callable[[bytes], str | None] | None = None
    # Private: the route never sees the sender's address or identifying headers.
    private: bool = False
    budget: Budget | None = None

    def matches(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/")


@dataclass(frozen=True)
class Timeouts:
    headers: float = 30.0  # from the first byte of a request to the end of its headers
    body_idle: float = 60.0  # the longest silence while a body arrives
    body_total: float = 1800.0  # the whole body: a 50 MB upload on a slow line fits
    # After its first ``body_grace`` seconds, a body must have averaged ``body_min_rate``
    # bytes a second since it began, or it is dropped and its memory freed: a client that
    # trickles a byte a minute can no longer hold the form's budget for half an hour. A
    # slow mobile link (64 kbit/s, 8 KB/s) always passes: 2 KB/s is a quarter of it, room
    # for TCP's and TLS's overhead, a slow start and a few stalls in a tunnel; and 10 s
    # covers a phone waking its radio and a TLS handshake before the first bytes come.
    # (Smaller bodies than 20 KB are whole before the grace ends and are never judged.)
    body_grace: float = 10.0
    body_min_rate: float = 2048.0  # 0: no floor


@dataclass
class Front:
    """An ASGI middleware that reads each request whole, within its limits, then calls ``app``."""

    app: ASGIApp
    routes: Sequence[Route]
    default_max_bytes: int
    timeouts: Timeouts = field(default_factory=Timeouts)
    clock: Callable[[], float] = time.monotonic
    # The one-time ids of form posts whose bodies are arriving now: one upload a token,
    # so one free token cannot open many connections that share out the budget. This
    # process's own: another web process (or task) does not see them, so a client can
    # still hold one upload a token in each; the budget is also each process's own.
    in_flight: set[str] = field(default_factory=set)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = next((r for r in self.routes if r.matches(scope["path"])), None)
        cap = route.max_bytes if route else self.default_max_bytes
        if route is not None and route.private:
            scope = _without_sender(scope)
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, 400, "The request's length is not a number.")
            return
        if declared is not None and declared > cap:
            await _refuse(send, 413, _TOO_LARGE)
            return
        carries_body = declared != 0 and scope["method"] not in ("GET", "HEAD")
        gate = route.gate if route is not None and carries_body else None
        form = gate(scope.get("query_string", b"")) if gate is not None else None
        if gate is not None and form is None:
            await self._call_unread(scope, receive, send)
            return
        if form is not None and form in self.in_flight:
            await _refuse(send, 409, _REASONS[409])
            return
        if form is not None:
            self.in_flight.add(form)
        budget = route.budget if route is not None else None
        body = bytearray()
        try:
            status = await self._read_body(receive, body, cap, budget)
            if status:
                await _refuse(send, status, _REASONS[status])
                return
            await self.app(scope, _replay(body, receive), send)
        finally:
            if budget is not None:
                budget.give_back(len(body))
            self.in_flight.discard(form or "")

    async def _read_body(
        self, receive: Receive, body: bytearray, cap: int, budget: Budget | None
    ) -> int:
        """Read the whole body into ``body``: 0, or the status that refuses what was held."""
        limits = self.timeouts
        started = self.clock()
        deadline = started + limits.body_total
        while True:
            now = self.clock()
            wait = min(limits.body_idle, deadline - now)
            if limits.body_min_rate > 0:
                # The moment the bytes held so far fall below the floor: wake then.
                behind = started + max(limits.body_grace, len(body) / limits.body_min_rate)
                wait = min(wait, behind - now)
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0))
            except TimeoutError:
                return 408
            if message["type"] == "http.disconnect":
                return 400
            chunk = message.get("body", b"")
            if len(body) + len(chunk) > cap:
                return 413
            # Charged for the bytes that came, never for what the request declares.
            if budget is not None and not budget.take(len(chunk)):
                return 503
            body += chunk
            if not message.get("more_body", False):
                return 0
            if self._too_slow(len(body), self.clock() - started):
                return 408

    def _too_slow(self, held: int, seconds: float) -> bool:
        limits = self.timeouts
        if limits.body_min_rate <= 0 or seconds <= limits.body_grace:
            return False
        return held < limits.body_min_rate * seconds

    async def _call_unread(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The app answers with its own page (a fresh form, in the sender's language); the
        # connection is closed after it, so the unread body is never taken in.
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if name not in (b"content-length", b"content-type", b"transfer-encoding")
        ]
        unread = {**scope, "headers": [*headers, (b"content-length", b"0")], UNREAD_KEY: True}
        await self.app(unread, _replay(bytearray(), receive), _closing(send))


_TOO_LARGE = (
    "This is larger than we accept: the form takes up to 5 files of 10 MB each. Go back, "
    "attach fewer or smaller files, and send it again; what you typed is still in your "
    "browser.\n\nMae hyn yn fwy nag a dderbyniwn: mae'r ffurflen yn cymryd hyd at 5 ffeil "
    "o 10 MB yr un. Ewch yn ôl, atodwch lai o ffeiliau neu ffeiliau llai, a'i hanfon eto."
)
_REASONS = {
    400: "The request was not complete.",
    408: (
        "The request arrived too slowly. Go back and send it again; what you typed is still "
        "in your browser.\n\nCyrhaeddodd y cais yn rhy araf. Ewch yn ôl a'i anfon eto."
    ),
    409: (
        "This form is being sent already, from another window or tab. Wait for that one to "
        "finish; if it fails, go back and send this one again.\n\nMae'r ffurflen hon yn "
        "cael ei hanfon yn barod, o ffenestr neu dab arall. Arhoswch i honno orffen; os yw'n "
        "methu, ewch yn ôl a'i hanfon eto."
    ),
    413: _TOO_LARGE,
    503: (
        "Many large reports are arriving just now. Go back, wait a minute and send it again; "
        "what you typed is still in your browser.\n\nMae llawer o adroddiadau mawr yn "
        "cyrraedd ar hyn o bryd. Ewch yn ôl, arhoswch funud a'i anfon eto."
    ),
}


def _content_length(scope: Scope) -> int | None:
    """The declared length, None if there is none (chunked), -1 if it is not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else -1
    return None


def _without_sender(scope: Scope) -> Scope:
    headers = [(n, v) for n, v in scope["headers"] if n not in SENDER_HEADERS]
    return {**scope, "client": None, "headers": headers}


def _replay(body: bytearray, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}
        return await receive()  # only a disconnect is left to hear

    return replay


def _closing(send: Send) -> Send:
    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"connection"]
            message = {**message, "headers": [*kept, (b"connection", b"close")]}
        await send(message)

    return closing


async def _refuse(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                # Whatever the client still sends is never read.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class HeaderTimedProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose headers come too slowly."""

    header_seconds = Timeouts.headers

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        # Until h11 has parsed a whole request line and headers, the client is "IDLE".
        waiting = self.conn.their_state is h11.IDLE
        if waiting and self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_seconds, self._too_slow)
        elif not waiting:
            self._stop_header_timer()

    def _stop_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


class FrontWorker(UvicornWorker):  # type: ignore[misc]
    """gunicorn's worker for the front: asyncio, HTTP/1.1 only, no access log, no proxy trust."""

    CONFIG_KWARGS: dict[str, Any] = {  # noqa: RUF012 - uvicorn-worker's own extension point
        "loop": "asyncio",
        "http": HeaderTimedProtocol,
        "ws": "none",
        "lifespan": "off",
        # uvicorn's access log names the client's address; ivr.access logs routes only.
        "access_log": False,
        # X-Forwarded-For is nobody's business here; the console trusts its balancer itself.
        "proxy_headers": False,
        "server_header": False,
    }


def worker_class(timeouts: Timeouts) -> type[FrontWorker]:
    """Return the gunicorn worker class whose connections keep to ``timeouts``' header limit."""
    protocol = type("Protocol", (HeaderTimedProtocol,), {"header_seconds": timeouts.headers})
    kwargs = {**FrontWorker.CONFIG_KWARGS, "http": protocol}
    return type("Worker", (FrontWorker,), {"CONFIG_KWARGS": kwargs})
