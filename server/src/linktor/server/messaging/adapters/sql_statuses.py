"""Provider status reports applied in bulk: one UPDATE per wave instead of one per report.

A busy channel reports thousands of statuses a second (sent, delivered, read for every
message), so the inbound worker applies a whole group of webhooks' reports together. A wave
holds at most one report per message, so a message reported DELIVERED then READ in one
group takes both, in order, exactly as if the reports were applied one by one.

On PostgreSQL a wave is one ``UPDATE ... FROM unnest(arrays)``: one round trip, and the same
statement text whatever the wave's size, so the prepared statement is reused. The monotonic
guard is the same as a single report's (``status`` must be one the new one may follow, see
messaging.domain.status). SQLite applies reports one by one (no bulk UPDATE ... FROM there;
embedded loads are small).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import ARRAY, DateTime, String, TextualSelect, any_, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.messaging.adapters.tables import messages
from linktor.server.messaging.app.ports import StatusReport
from linktor.server.messaging.domain.status import statuses_before

_COLUMNS = ", ".join(f"m.{c.name}" for c in messages.c)

_BULK = (
    text(
        f"""
UPDATE messages AS m SET
    status = v.status,
    update_time = v.at,
    send_time = CASE WHEN v.status = 'SENT' THEN v.at ELSE m.send_time END,
    deliver_time = CASE WHEN v.status = 'DELIVERED' THEN v.at ELSE m.deliver_time END,
    read_time = CASE WHEN v.status = 'READ' THEN v.at ELSE m.read_time END,
    fail_time = CASE WHEN v.status = 'FAILED' THEN v.at ELSE m.fail_time END,
    error = CASE WHEN v.status = 'FAILED' THEN v.error::json ELSE m.error END,
    lease_until = CASE WHEN v.status = 'FAILED' THEN NULL ELSE m.lease_until END
FROM unnest(:channel_ids, :provider_ids, :statuses, :ats, :errors, :allowed)
    AS v(channel_id, provider_message_id, status, at, error, allowed)
WHERE m.channel_id = v.channel_id
    AND m.provider_message_id = v.provider_message_id
    AND m.status = ANY(string_to_array(v.allowed, ','))
RETURNING {_COLUMNS}
"""  # noqa: S608 - only the table's own column names are interpolated
    )
    .bindparams(
        bindparam("channel_ids", type_=ARRAY(String)),
        bindparam("provider_ids", type_=ARRAY(String)),
        bindparam("statuses", type_=ARRAY(String)),
        bindparam("ats", type_=ARRAY(DateTime(timezone=True))),
        bindparam("errors", type_=ARRAY(String)),
        bindparam("allowed", type_=ARRAY(String)),
    )
    .columns(*messages.c)
)


def waves(reports: Sequence[StatusReport]) -> list[list[int]]:
    """Indexes of ``reports`` in waves: the n-th report about a message goes to wave n."""
    seen: dict[tuple[str, str], int] = {}
    out: list[list[int]] = []
    for index, report in enumerate(reports):
        key = (report.channel_id, report.provider_message_id)
        wave = seen.get(key, 0)
        seen[key] = wave + 1
        if wave == len(out):
            out.append([])
        out[wave].append(index)
    return out


def bulk_statement(reports: Sequence[StatusReport]) -> TextualSelect:
    """The PostgreSQL UPDATE of one wave (at most one report per message)."""
    return _BULK.bindparams(
        channel_ids=[r.channel_id for r in reports],
        provider_ids=[r.provider_message_id for r in reports],
        statuses=[r.status.value for r in reports],
        ats=[r.at for r in reports],
        errors=[json.dumps(r.error.to_json()) if r.error else None for r in reports],
        allowed=[",".join(s.value for s in statuses_before(r.status)) for r in reports],
    )


async def known_provider_ids(
    conn: AsyncConnection, channel_id: str, provider_ids: Sequence[str]
) -> set[str]:
    column = messages.c.provider_message_id
    if conn.dialect.name == "postgresql":
        # = ANY(array): one statement text for any number of ids (IN would make one each).
        matching = column == any_(bindparam("ids", list(provider_ids), type_=ARRAY(String)))
    else:
        matching = column.in_(list(provider_ids))
    query = select(column).where(messages.c.channel_id == channel_id, matching)
    return {str(row[0]) for row in await conn.execute(query)}
