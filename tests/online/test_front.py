"""The buffering front, driven in this process: what reaches the app, and what never does."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from ivr.cli.front import Budget, Front, Route, Timeouts
from ivr.online.guard import UNREAD_KEY

Message = MutableMapping[str, Any]


class App:
    """Records each request it is given, whole, and answers 200."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, Any], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        self.seen.append((scope, message["body"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def request(
    path: str = "/report",
    query: bytes = b"",
    length: int | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    sent = list(headers or [])
    if length is not None:
        sent.append((b"content-length", str(length).encode()))
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": query,
        "headers": sent,
        "client": ("203.0.113.77", 5555),
    }


def run(front: Front, scope: dict[str, Any], chunks: list[bytes] | None) -> list[Message]:
    """Call the front with ``chunks`` as the body (None: the client stalls for ever)."""
    sent: list[Message] = []

    async def go() -> None:
        pending = list(chunks or [])

        async def receive() -> Message:
            if chunks is None:
                await asyncio.Event().wait()  # a client that sends nothing more
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(pending)}

        async def send(message: Message) -> None:
            sent.append(message)

        await front(scope, receive, send)

    asyncio.run(go())
    return sent


def front(app: App, kwargs: dict[str, Any] | None = None, **route: Any) -> Front:
    return Front(
        app,
        [Route("/report", **{"max_bytes": 1000, **route})],
        default_max_bytes=100,
        **{"timeouts": Timeouts(body_idle=0.05), **(kwargs or {})},
    )


def status(sent: list[Message]) -> int:
    return int(sent[0]["status"])


def test_a_stalled_body_is_dropped_and_never_reaches_the_app() -> None:
    app = App()
    assert status(run(front(app), request(length=500), None)) == 408
    assert app.seen == []


def test_too_large_is_refused_before_or_while_reading() -> None:
    app = App()
    assert status(run(front(app), request(length=1001), None)) == 413  # declared: not read
    assert status(run(front(app), request(), [b"x" * 600, b"x" * 600])) == 413  # chunked
    assert status(run(front(app), request("/other", length=101), None)) == 413
    assert status(run(front(app), request(headers=[(b"content-length", b"1e9")]), [])) == 400
    # A superscript two is a digit to str.isdigit(), not to int()
    assert status(run(front(app), request(headers=[(b"content-length", b"\xb2")]), [])) == 400
    assert app.seen == []


def test_the_bodies_held_at_once_are_capped_and_given_back() -> None:
    app, budget = App(), Budget(150)
    guarded = front(app, budget=budget)
    assert status(run(guarded, request(), [b"x" * 100, b"x" * 100])) == 503
    assert budget.held == 0 and app.seen == []
    assert status(run(guarded, request(), [b"x" * 100, b"x" * 40])) == 200
    assert budget.held == 0 and app.seen[0][1] == b"x" * 140


def test_a_private_route_never_sees_the_senders_address_or_browser() -> None:
    app = App()
    sender = [(b"user-agent", b"Planted/1"), (b"referer", b"https://x"), (b"x-forwarded-for", b"1")]
    run(front(app, private=True), request(headers=sender, length=2), [b"hi"])
    scope, body = app.seen[0]
    assert scope["client"] is None and body == b"hi"
    assert [name for name, _ in scope["headers"]] == [b"content-length"]


def test_a_post_the_gate_refuses_reaches_the_app_unread_and_the_connection_closes() -> None:
    app = App()
    gated = front(app, gate=lambda query: "ours" if query == b"token=ours" else None)
    sent = run(gated, request(query=b"token=forged", length=900), None)  # the body never comes
    scope, body = app.seen[0]
    assert scope[UNREAD_KEY] is True and body == b""
    assert (b"connection", b"close") in sent[0]["headers"]
    assert status(run(gated, request(query=b"token=ours", length=2), [b"ok"])) == 200
    assert app.seen[1][1] == b"ok"


class Clock:
    """The front's clock, moved by the test: no test waits for a rate to fall."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Client:
    """One connection whose body comes when the test says, and whose answers are kept."""

    def __init__(self, front: Front, scope: dict[str, Any]) -> None:
        self.chunks: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()
        self.sent: list[Message] = []
        self.reads = 0
        self.task = asyncio.create_task(front(scope, self._receive, self._send))

    def send(self, body: bytes, more: bool = True) -> None:
        self.chunks.put_nowait((body, more))

    async def status(self) -> int:
        await self.task
        return int(self.sent[0]["status"])

    async def _receive(self) -> Message:
        self.reads += 1
        body, more = await self.chunks.get()
        return {"type": "http.request", "body": body, "more_body": more}

    async def _send(self, message: Message) -> None:
        self.sent.append(message)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def test_a_trickling_upload_is_dropped_and_its_budget_goes_to_a_real_sender() -> None:
    async def story() -> None:
        clock, app, budget = Clock(), App(), Budget(150)
        limits = Timeouts(body_idle=3600, body_grace=10, body_min_rate=10)
        guarded = front(app, {"timeouts": limits, "clock": clock}, budget=budget)
        # Given an upload that sends 100 bytes at once, then trickles
        trickle = Client(guarded, request())
        trickle.send(b"x" * 100)
        await settle()
        assert budget.held == 100
        # Then a real sender who needs more than what is left is turned away for now
        turned = Client(guarded, request())
        turned.send(b"y" * 60, more=False)
        assert await turned.status() == 503
        # When the trickle's next byte comes 20 s in, below 10 bytes a second on average
        clock.now = 9.0
        trickle.send(b"x")  # within the grace, a slow start is forgiven
        await settle()
        assert not trickle.task.done()
        clock.now = 20.0
        trickle.send(b"x")
        # Then it is dropped, unread by the app, and its share of the budget returns
        assert await trickle.status() == 408
        assert budget.held == 0 and app.seen == []
        # So the real sender gets through
        again = Client(guarded, request())
        again.send(b"y" * 60, more=False)
        assert await again.status() == 200
        assert app.seen[0][1] == b"y" * 60

    asyncio.run(story())


def test_a_body_that_keeps_the_rate_is_never_dropped() -> None:
    async def story() -> None:
        clock, app = Clock(), App()
        limits = Timeouts(body_idle=3600, body_grace=10, body_min_rate=10)
        guarded = front(app, {"timeouts": limits, "clock": clock}, max_bytes=10_000)
        steady = Client(guarded, request())
        for second in range(1, 100):  # a slow line: 12 bytes a second for 99 s
            clock.now = float(second)
            steady.send(b"z" * 12, more=second < 99)
            await settle()
        assert await steady.status() == 200
        assert len(app.seen[0][1]) == 12 * 99

    asyncio.run(story())


def test_a_second_upload_of_one_token_is_refused_before_its_body_is_read() -> None:
    async def story() -> None:
        app = App()
        gated = front(
            app,
            {"timeouts": Timeouts(body_idle=3600)},
            gate=lambda query: query.decode() or None,
        )
        # Given an upload whose body is still arriving
        first = Client(gated, request(query=b"token=ours", length=4))
        first.send(b"fi")
        await settle()
        # When a second post of the same form comes meanwhile
        second = Client(gated, request(query=b"token=ours", length=4))
        second.send(b"more", more=False)  # all of it ready, were it read
        # Then it is refused without a byte of its body being read
        assert await second.status() == 409
        assert second.reads == 0
        assert (b"connection", b"close") in second.sent[0]["headers"]
        # While another form's upload is not held up
        other = Client(gated, request(query=b"token=theirs", length=2))
        other.send(b"ok", more=False)
        assert await other.status() == 200
        # And once the first upload is whole, that form's token may be posted again
        first.send(b"st", more=False)
        assert await first.status() == 200
        third = Client(gated, request(query=b"token=ours", length=2))
        third.send(b"ok", more=False)
        assert await third.status() == 200
        assert [body for _, body in app.seen] == [b"ok", b"fist", b"ok"]

    asyncio.run(story())
