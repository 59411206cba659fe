"""Send a text message and follow it until the provider took it.

LINKTOR_API_KEY=lk_... python sdks/python/examples/send_text.py CHANNEL_ID +15551234567 "Hi!"
"""

from __future__ import annotations

import sys
import time

from linktor.sdk import Linktor, errors


def main(channel: str, to: str, text: str) -> int:
    with Linktor() as client:  # LINKTOR_API_KEY, LINKTOR_ADDRESS (default 127.0.0.1:9090)
        try:
            message = client.messages.send(channel=channel, to=to, text=text)
        except errors.InvalidArgument as exc:
            for violation in exc.field_violations:
                print(f"{violation.field}: {violation.description}", file=sys.stderr)
            return 2
        print("accepted", message.name, "request_id", message.request_id)
        for _ in range(20):
            message = client.messages.get(message.name)
            if message.status >= 3:  # SENT or later (or FAILED)
                break
            time.sleep(0.5)
        print("status", message.status, message.error.code or "")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:4]))
