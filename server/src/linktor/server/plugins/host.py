"""PluginHost: the AdapterProvider the server uses (plugins/port.py).

Launched adapters (one child process per channel type, started on first acquire) and remote
adapters (per address) behind one ``acquire``; state changes go to observers (``watch``) so
the channels context can show DEGRADED; ``close`` stops everything in parallel.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from linktor.server.config import ConfigError, Settings
from linktor.server.logs import get_logger
from linktor.server.plugins.handle import ConnectedAdapter
from linktor.server.plugins.registry import adapter_commands, channel_type_name
from linktor.server.plugins.remote import RemoteAdapter, RemoteTls
from linktor.server.plugins.state import AdapterObserver, AdapterStatus
from linktor.server.plugins.supervisor import LaunchedAdapter, SupervisionOptions
from linktor.server.shared.errors import FailedPrecondition, InvalidArgument, Unavailable

if TYPE_CHECKING:
    from linktor.server.plugins.port import AdapterProvider

log = get_logger(__name__)


class PluginHost:
    """Finds, starts and supervises the adapters serving channels."""

    def __init__(
        self,
        commands: Mapping[int, list[str]],
        *,
        options: SupervisionOptions | None = None,
        acquire_timeout: float = 10.0,
        tls: RemoteTls | None = None,
    ) -> None:
        self.commands = dict(commands)
        self.options = options or SupervisionOptions()
        self.acquire_timeout = acquire_timeout
        self.tls = tls or RemoteTls()
        self._launched: dict[int, LaunchedAdapter] = {}
        self._remote: dict[str, RemoteAdapter] = {}
        self._observers: list[AdapterObserver] = []
        self._pending: set[asyncio.Future[None]] = set()
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> PluginHost:
        """The host the settings describe; ConfigError naming the variable when inconsistent."""
        if (settings.adapter_tls_cert_file is None) != (settings.adapter_tls_key_file is None):
            raise ConfigError(
                "LINKTOR_ADAPTER_TLS_CERT_FILE and LINKTOR_ADAPTER_TLS_KEY_FILE go together"
            )
        if settings.adapter_min_port > settings.adapter_max_port:
            raise ConfigError("LINKTOR_ADAPTER_MIN_PORT is greater than LINKTOR_ADAPTER_MAX_PORT")
        options = SupervisionOptions(
            start_timeout=settings.adapter_start_timeout_seconds,
            health_interval=settings.adapter_health_interval_seconds,
            max_backoff=settings.adapter_restart_max_backoff_seconds,
            min_port=settings.adapter_min_port,
            max_port=settings.adapter_max_port,
            log_level=settings.log_level,
        )
        tls = RemoteTls(
            settings.adapter_tls_ca_file,
            settings.adapter_tls_cert_file,
            settings.adapter_tls_key_file,
        )
        return cls(
            adapter_commands(settings.adapter_commands),
            options=options,
            acquire_timeout=settings.adapter_acquire_timeout_seconds,
            tls=tls,
        )

    async def acquire(self, channel_type: int, *, address: str = "") -> ConnectedAdapter:
        """See AdapterProvider.acquire. Unavailable while an adapter (re)starts or is
        unreachable; FailedPrecondition when no adapter serves the channel type."""
        if self._closed:
            raise Unavailable("the plugin host is shut down")
        if not channel_type:
            raise InvalidArgument.for_field("type", "a channel type is required")
        if address:
            remote = self._remote.get(address)
            if remote is None:
                remote = self._remote[address] = RemoteAdapter(
                    address, self.tls, self.options, self._changed
                )
            return await remote.acquire(channel_type, self.acquire_timeout)
        launched = self._launched.get(channel_type)
        if launched is None:
            command = self.commands.get(channel_type)
            if command is None:
                name = channel_type_name(channel_type)
                raise FailedPrecondition(
                    f"no adapter serves {name} channels: set LINKTOR_ADAPTER_COMMANDS (e.g. "
                    f'{{"{name.lower()}": "/path/to/adapter"}}) or the channel\'s adapter_address',
                    reason="CHANNEL_UNAVAILABLE",
                )
            launched = self._launched[channel_type] = LaunchedAdapter(
                channel_type, command, self.options, self._changed
            )
        return await launched.acquire(self.acquire_timeout)

    def watch(self, observer: AdapterObserver) -> Callable[[], None]:
        """Call ``observer`` on every adapter state change; returns the unsubscribe function."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def statuses(self) -> list[AdapterStatus]:
        """The current state of every adapter used so far."""
        return [a.status for a in self._launched.values()] + [
            r.status for r in self._remote.values()
        ]

    async def close(self) -> None:
        """Stop every adapter (in parallel; each: Shutdown, then SIGTERM, then SIGKILL)."""
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(
            *(a.close() for a in self._launched.values()),
            *(r.close() for r in self._remote.values()),
            return_exceptions=True,
        )
        if self._pending:
            await asyncio.wait(self._pending, timeout=1.0)

    def _changed(self, status: AdapterStatus) -> None:
        for observer in list(self._observers):
            try:
                result = observer(status)
            except Exception:
                log.exception("adapter observer failed", adapter=status.key)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._pending.add(task)
                task.add_done_callback(self._observed)

    def _observed(self, task: asyncio.Future[None]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("adapter observer failed", error=repr(task.exception()))


if TYPE_CHECKING:
    _: AdapterProvider = PluginHost({})
