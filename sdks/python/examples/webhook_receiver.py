"""A minimal webhook receiver (standard library only) that verifies Linktor's signature.

    LINKTOR_WEBHOOK_SECRET=whsec_... python sdks/python/examples/webhook_receiver.py 8000

Create the endpoint with ``client.webhooks.create(webhook_endpoint={"url": ...})``; its
``secret`` is returned once, on creation.
"""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from linktor.sdk import errors
from linktor.sdk.webhooks import WebhookVerifier

verifier = WebhookVerifier(os.environ["LINKTOR_WEBHOOK_SECRET"])
seen: set[str] = set()  # use your database: webhook ids repeat on retries and replays


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        try:
            event = verifier.verify(body, dict(self.headers.items()))
        except errors.WebhookVerificationError as exc:
            self.send_response(400)
            self.end_headers()
            print("refused:", exc)
            return
        if event.id not in seen:
            seen.add(event.id)
            print(event.type, event.event.sequence, event.event.WhichOneof("payload"))
        self.send_response(204)
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(
        ("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000), Receiver
    ).serve_forever()
