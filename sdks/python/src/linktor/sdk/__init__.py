"""Linktor's Python SDK: ``AsyncLinktor`` for asyncio code, ``Linktor`` for everything else.

>>> from linktor.sdk import Linktor
>>> client = Linktor(api_key="lk_...")            # the server at 127.0.0.1:9090
>>> client.messages.send(channel="ch_1", to="+15551234567", text="Hello!")

Modules: :mod:`linktor.sdk.errors` (every exception, in one place),
:mod:`linktor.sdk.accounts` (set a password with a setup token, before logging in),
:mod:`linktor.sdk.content` (message content builders), :mod:`linktor.sdk.webhooks`
(verify and parse Linktor webhooks), :mod:`linktor.sdk.options` (retries, timeouts).
"""

from linktor.sdk import accounts, content, errors
from linktor.sdk._version import __version__
from linktor.sdk.client_async import AsyncLinktor
from linktor.sdk.client_sync import Linktor
from linktor.sdk.credentials import ApiKey, Password, RefreshToken, Tokens
from linktor.sdk.errors import LinktorError
from linktor.sdk.events_async import AsyncEventStream
from linktor.sdk.events_sync import EventStream
from linktor.sdk.options import RetryPolicy
from linktor.sdk.pagination_async import AsyncPager
from linktor.sdk.pagination_sync import Pager

__all__ = [
    "ApiKey",
    "AsyncEventStream",
    "AsyncLinktor",
    "AsyncPager",
    "EventStream",
    "Linktor",
    "LinktorError",
    "Pager",
    "Password",
    "RefreshToken",
    "RetryPolicy",
    "Tokens",
    "__version__",
    "accounts",
    "content",
    "errors",
]
