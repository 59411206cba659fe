"""A TCP proxy in front of the server that a test can cut: connections reset on demand,
or as soon as the server answers a call (the request was handled, the answer is lost)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from lktest.services import free_port


class CuttableProxy:
    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self.address = f"127.0.0.1:{free_port()}"
        self._listener = socket.create_server(("127.0.0.1", int(self.address.rsplit(":", 1)[1])))
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._drop_next_answer = False
        # Set once the client sent a call after drop_next_answer(): only then is the server's
        # next output an answer (before, it may be a PING or a WINDOW_UPDATE of its own).
        self._call_sent = False
        self.refusing = False
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            server = socket.create_connection(self._target)
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not answers and data and self._drop_next_answer and _starts_a_call(data):
                self._call_sent = True
            if answers and data and self._drop_next_answer and self._call_sent:
                self._drop_next_answer = self._call_sent = False
                self.cut()
                return
            if not data:
                break
            try:
                sink.sendall(data)
            except OSError:
                break
        for end in (source, sink):
            with suppress(OSError):
                end.close()

    def drop_next_answer(self) -> None:
        """The first bytes the server sends after the client's next call are dropped and
        every connection is reset."""
        self._call_sent = False
        self._drop_next_answer = True

    def cut(self) -> None:
        """Reset every open connection now."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        self.cuts += 1
        for pair in pairs:
            for end in pair:
                # shutdown() wakes the pump blocked in recv (close() alone would not) and
                # ends the connection for both peers at once.
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self._listener.close()
        self.cut()


_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HEADERS = 0x1


def _starts_a_call(chunk: bytes) -> bool:
    """Whether a chunk the client sent holds an HTTP/2 HEADERS frame (a new call), read
    frame by frame from its start (the client writes whole frames)."""
    at = len(_PREFACE) if chunk.startswith(_PREFACE) else 0
    while at + 9 <= len(chunk):
        length = int.from_bytes(chunk[at : at + 3], "big")
        if chunk[at + 3] == _HEADERS:
            return True
        at += 9 + length
    return False


@contextmanager
def cuttable_proxy(target: str) -> Iterator[CuttableProxy]:
    proxy = CuttableProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()
