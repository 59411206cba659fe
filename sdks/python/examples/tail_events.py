"""Follow a tenant's message events, resuming where the last run stopped.

    LINKTOR_API_KEY=lk_... python sdks/python/examples/tail_events.py

The last sequence is kept in ./.last-sequence: stop with Ctrl-C and run again, nothing is
missed or printed twice (events are kept 7 days).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from linktor.sdk import AsyncLinktor, errors

CURSOR = Path(".last-sequence")


def save(sequence: int) -> None:
    CURSOR.write_text(str(sequence))


async def main(after: int) -> None:
    async with AsyncLinktor() as client:
        stream = client.events.stream(after_sequence=after, types=["message.*"])
        try:
            async for event in stream:
                message = event.message
                print(event.sequence, event.type, message.name, message.content.text.body)
                save(stream.last_sequence)
        except errors.EventSequenceExpired as expired:
            print(
                "too far behind: reload what you mirror, then resume from", expired.resume_sequence
            )
            save(expired.resume_sequence)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(int(CURSOR.read_text()) if CURSOR.exists() else 0))
