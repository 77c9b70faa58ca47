"""uvicorn's HTTP protocol with a deadline for the request line and headers (slow clients get 408).

uvicorn closes idle keep-alive connections, but a client that opens a connection and then sends
its headers a byte at a time holds that connection (and one of the server's places) for as long
as it likes. :func:`header_timeout_protocol` returns a subclass of uvicorn's httptools protocol
that arms a timer when a connection opens and when a new request begins, and disarms it once the
headers are complete; when it fires, the client gets ``408 Request Timeout`` and the connection
is closed. The body has its own deadline (:class:`~shendu.serve.limits.BodySizeLimit`).
"""

__all__ = ["header_timeout_protocol"]

_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
             b"content-length: %d\r\n\r\n%s")  # fmt: skip


def header_timeout_protocol(seconds):
    """A uvicorn protocol class closing connections whose headers take longer than ``seconds``.

    Returns None where uvicorn's httptools protocol is not available (uvicorn then runs its
    default protocol, without this deadline).
    """
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return None

    body = b'{"detail":"the request headers did not arrive within %g s"}' % seconds

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _header_timer = None

        def _arm(self):
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(seconds, self._headers_too_slow)

        def _disarm(self):
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self):
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.write(_RESPONSE % (len(body), body))
                self.transport.close()

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self):
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self):
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc):
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol
