"""Every context's tables on one MetaData, for migrations and the schema drift test."""

from __future__ import annotations

from sqlalchemy import MetaData

from linktor.server.infra.db.types import metadata


def load_all_tables() -> MetaData:
    """Import each context's table module (registering its tables) and return the metadata."""
    # Imported for their side effect of defining tables on `metadata`.
    from linktor.server.channels.adapters import tables as _channels  # noqa: F401
    from linktor.server.contacts.adapters import tables as _contacts  # noqa: F401
    from linktor.server.conversations.adapters import tables as _conversations  # noqa: F401
    from linktor.server.events.adapters import tables as _events  # noqa: F401
    from linktor.server.identity.adapters import tables as _identity  # noqa: F401
    from linktor.server.infra.idempotency import table as _idempotency  # noqa: F401
    from linktor.server.infra.outbox import table as _outbox  # noqa: F401
    from linktor.server.media.adapters import tables as _media  # noqa: F401
    from linktor.server.messaging.adapters import tables as _messaging  # noqa: F401
    from linktor.server.webhooks.adapters import tables as _webhooks  # noqa: F401

    return metadata
