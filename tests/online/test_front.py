"""The buffering front, driven in this process: what reaches the app, and what never does."""

from __future__ import annotations

import asyncio
from typing import Any

from ivr.cli.front import Budget, Front, Route, Timeouts
from ivr.online.guard import UNREAD_KEY

Message = dict[str, Any]


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


def front(app: App, **route: Any) -> Front:
    return Front(
        app,
        [Route("/report", **{"max_bytes": 1000, **route})],
        default_max_bytes=100,
        timeouts=Timeouts(body_idle=0.05),
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
    gated = front(app, gate=lambda query: query == b"token=ours")
    sent = run(gated, request(query=b"token=forged", length=900), None)  # the body never comes
    scope, body = app.seen[0]
    assert scope[UNREAD_KEY] is True and body == b""
    assert (b"connection", b"close") in sent[0]["headers"]
    assert status(run(gated, request(query=b"token=ours", length=2), [b"ok"])) == 200
    assert app.seen[1][1] == b"ok"
