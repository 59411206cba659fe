"""``msgfy send --csv``: one message per row, each with a request_id derived from the file
name, the row number and the row's content, so re-running after an interruption (or twice)
sends every row exactly once: rows already sent return their first result."""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from linktor.sdk import Linktor, content, errors
from linktor.sdk.content import from_dict

REQUIRED_COLUMNS = ("to",)


@dataclass
class Row:
    number: int  # 1-based, the header not counted
    values: dict[str, str]


@dataclass
class Summary:
    sent: int = 0
    already_sent: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.sent + self.already_sent + len(self.failed)


def read_rows(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        return [
            Row(i, {k: (v or "").strip() for k, v in r.items() if k})
            for i, r in enumerate(reader, 1)
        ]


def request_id_of(path: Path, row: Row, channel: str) -> str:
    """Stable across runs for the same file name, row and content; changes if any changes."""
    key = json.dumps([path.name, row.number, channel, sorted(row.values.items())])
    return "msgfy-csv-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def send_rows(
    client: Linktor,
    path: Path,
    rows: list[Row],
    default_channel: str,
    on_done: Callable[[], None],
    workers: int = 8,
) -> Summary:
    summary = Summary()
    started = time.time()

    def send(row: Row) -> None:
        channel = row.values.get("channel") or default_channel
        try:
            if not channel:
                raise ValueError("no channel (a `channel` column or --channel)")
            if row.values.get("content"):
                body = from_dict(json.loads(row.values["content"]))
            elif row.values.get("template"):
                params = [p for p in row.values.get("params", "").split("|") if p]
                body = content.template(
                    row.values["template"], row.values.get("language", "en"), body=params
                )
            elif row.values.get("media_url"):
                body = content.media(
                    row.values["media_url"],
                    type=row.values.get("media_type") or "image",
                    caption=row.values.get("text", ""),
                )
            else:
                body = content.text(row.values.get("text", ""))
            message = client.messages.send(
                channel=channel,
                to=row.values["to"],
                content=body,
                display_name=row.values.get("name") or None,
                request_id=request_id_of(path, row, channel),
            )
            # The server answers a repeated request_id with the first message: created before
            # this run began means an earlier run sent it. (Only the summary depends on the
            # clocks agreeing; what is sent never does.)
            if message.create_time.ToDatetime(tzinfo=UTC).timestamp() < started:
                summary.already_sent += 1
            else:
                summary.sent += 1
        except (errors.LinktorError, ValueError) as exc:
            summary.failed.append((row.number, str(exc)))
        finally:
            on_done()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(send, rows))
    summary.failed.sort()
    return summary
