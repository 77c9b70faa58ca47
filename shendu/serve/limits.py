"""An ASGI middleware that refuses request bodies over a size limit with 413, and slow ones with 408.

It counts the bytes it receives, so a chunked upload without ``Content-Length`` is stopped as
soon as it passes the limit, and a declared ``Content-Length`` over the limit is refused before
anything is read. The whole body must arrive within ``timeout`` seconds: a client that stalls
(or declares a ``Content-Length`` larger than what it sends) gets ``408 Request Timeout`` and
the connection is closed. The body (at most the limit) is then handed to the app in one piece.
"""

import asyncio
import json
import math

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    """Wrap an ASGI app: HTTP request bodies larger than ``max_bytes`` get ``413 Payload Too Large``."""

    def __init__(self, app, max_bytes, timeout=30.0):
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive integer. Received: max_bytes={max_bytes!r}")
        if not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds. Received: timeout={timeout!r}")
        self.app, self.max_bytes, self.timeout = app, max_bytes, float(timeout)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reply(send, 400, "Content-Length is not a number")
                    return
        if declared is not None and declared > self.max_bytes:
            await self._too_large(send)
            return
        chunks, total = [], 0
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - asyncio.get_running_loop().time(), 0.001))
            except asyncio.TimeoutError:
                await _reply(send, 408, f"the request body did not arrive within {self.timeout:g} s")
                return
            if message["type"] == "http.disconnect":
                return  # the client went away: nothing to answer
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send):
        await _reply(send, 413, f"request body is larger than the limit of {self.max_bytes} bytes")


async def _reply(send, status, detail):
    payload = json.dumps({"detail": detail}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": payload})
