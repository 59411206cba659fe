"""The adapter plugin handshake: HashiCorp go-plugin's gRPC protocol, as Linktor uses it.

Both sides live here so they can never disagree: the plugin side (:mod:`.serve`) and the
host side (:mod:`.launcher`, used by the server's plugin host and the conformance suite).

The protocol (go-plugin ``client.go`` / ``server.go``, v1.8.0):

1. The host starts the plugin with, in its environment, the magic cookie
   ``LINKTOR_PLUGIN=<MAGIC_COOKIE_VALUE>`` (a plugin started without it refuses to run: it is
   not a program for people), ``PLUGIN_PROTOCOL_VERSIONS`` (the app protocol versions the host
   speaks, comma separated) and ``PLUGIN_MIN_PORT``/``PLUGIN_MAX_PORT`` (the TCP port range to
   listen in; 0 and 0 mean any free port).
2. The plugin listens (TCP on 127.0.0.1, or a unix socket) and prints ONE line on stdout:
   ``CORE-PROTOCOL-VERSION|APP-PROTOCOL-VERSION|NETWORK-TYPE|NETWORK-ADDR|PROTOCOL``, for
   example ``1|1|tcp|127.0.0.1:41234|grpc``. Go plugins add a sixth field (their AutoMTLS
   certificate; empty when not asked for).
3. The host checks the core version (always 1) and that the app version is one it offered,
   connects, and asks grpc.health.v1 for service ``plugin``, which must be SERVING.
4. To stop a plugin the host calls ``plugin.GRPCController/Shutdown``; the plugin stops
   serving and exits.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The cookie is not a secret: it only tells a plugin that a Linktor host started it, so that
# a person running the binary by hand gets an explanation instead of a silent server.
MAGIC_COOKIE_KEY = "LINKTOR_PLUGIN"
MAGIC_COOKIE_VALUE = "e1176770-ad1c-410a-b742-2d6201f3ff19"

# go-plugin's own protocol version; only 1 exists.
CORE_PROTOCOL_VERSION = 1
# Our application protocol: 1 is linktor.adapter.v1.ChannelAdapter.
APP_PROTOCOL_VERSION = 1
SUPPORTED_APP_VERSIONS: tuple[int, ...] = (APP_PROTOCOL_VERSION,)

# grpc.health.v1 service name go-plugin checks.
HEALTH_SERVICE = "plugin"
PROTOCOL_GRPC = "grpc"

ENV_PROTOCOL_VERSIONS = "PLUGIN_PROTOCOL_VERSIONS"
ENV_MIN_PORT = "PLUGIN_MIN_PORT"
ENV_MAX_PORT = "PLUGIN_MAX_PORT"
# Set by go-plugin hosts that use AutoMTLS; Linktor's host does not (loopback only).
ENV_CLIENT_CERT = "PLUGIN_CLIENT_CERT"
# Our additions (go-plugin ignores unknown variables): the host's log level, so a plugin can
# match it (debug/info/warning/error), and the host's pid, so a plugin notices the host died
# even when that happened before the plugin got to look at its parent.
ENV_LOG_LEVEL = "LINKTOR_ADAPTER_LOG_LEVEL"
ENV_HOST_PID = "LINKTOR_ADAPTER_HOST_PID"

# go-plugin ignores a sixth field of 50 characters or fewer (older plugins sent junk there).
_MIN_CERT_FIELD = 50


class HandshakeError(Exception):
    """The plugin's handshake line or its negotiation is not acceptable."""


@dataclass(frozen=True)
class HandshakeLine:
    """The line a plugin prints on stdout once it listens."""

    core_version: int
    app_version: int
    network: str
    address: str
    protocol: str = PROTOCOL_GRPC
    server_cert: str = ""

    def format(self) -> str:
        fields = [
            str(self.core_version),
            str(self.app_version),
            self.network,
            self.address,
            self.protocol,
        ]
        if self.server_cert:
            fields.append(self.server_cert)
        return "|".join(fields)

    @property
    def grpc_target(self) -> str:
        """The address in gRPC's target syntax."""
        if self.network == "unix":
            return f"unix:{self.address}"
        return self.address

    @classmethod
    def parse(
        cls, line: str, *, offered_app_versions: Iterable[int] = SUPPORTED_APP_VERSIONS
    ) -> HandshakeLine:
        """Parse and check a handshake line as go-plugin's client does.

        Raises HandshakeError naming what is wrong and how it usually happens.
        """
        text = line.strip()
        parts = text.split("|")
        if len(parts) < 4:
            raise HandshakeError(
                f"unrecognized plugin handshake line {text[:200]!r}: expected "
                "CORE|APP|NETWORK|ADDRESS|PROTOCOL such as 1|1|tcp|127.0.0.1:1234|grpc "
                "(did the adapter print something else on stdout first?)"
            )
        core, app = _int_field(parts[0], "core protocol version"), _int_field(parts[1], "app")
        if core != CORE_PROTOCOL_VERSION:
            raise HandshakeError(
                f"incompatible go-plugin core protocol version {core}; "
                f"this host speaks {CORE_PROTOCOL_VERSION}"
            )
        offered = sorted(set(offered_app_versions))
        if app not in offered:
            raise HandshakeError(
                f"the adapter speaks app protocol version {app}, this host offers {offered}; "
                "rebuild the adapter against a linktor.adapter version the host supports"
            )
        network, address = parts[2], parts[3]
        if network not in ("tcp", "unix"):
            raise HandshakeError(f"unknown network type {network!r}: expected tcp or unix")
        if not address:
            raise HandshakeError("the handshake line has an empty address")
        protocol = parts[4] if len(parts) >= 5 and parts[4] else "netrpc"
        if protocol != PROTOCOL_GRPC:
            raise HandshakeError(
                f"the adapter speaks go-plugin protocol {protocol!r}; Linktor needs 'grpc' "
                "(in Go, serve a GRPCPlugin and set ServeConfig.GRPCServer)"
            )
        cert = parts[5] if len(parts) >= 6 and len(parts[5]) > _MIN_CERT_FIELD else ""
        return cls(core, app, network, address, protocol, cert)


def _int_field(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise HandshakeError(f"handshake {what} is not a number: {value!r}") from None


def negotiate_app_version(
    offered: str | None, supported: Iterable[int] = SUPPORTED_APP_VERSIONS
) -> int:
    """The plugin side of version negotiation (go-plugin ``protocolVersion``).

    The highest version both sides speak; when there is none (or the host sent no list) the
    plugin's lowest version, leaving the host to report the mismatch with a clear message.
    """
    ours = sorted(set(supported), reverse=True)
    theirs: set[int] = set()
    for item in (offered or "").split(","):
        item = item.strip()
        if item.isdigit():
            theirs.add(int(item))
    for version in ours:
        if version in theirs:
            return version
    return ours[-1]


def plugin_environment(
    *,
    app_versions: Iterable[int] = SUPPORTED_APP_VERSIONS,
    min_port: int = 0,
    max_port: int = 0,
    log_level: str | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment a host gives a plugin: ``base`` (default: ours) plus the handshake."""
    env = dict(os.environ if base is None else base)
    # Never pass a certificate meant for some other go-plugin host down to our plugins.
    env.pop(ENV_CLIENT_CERT, None)
    env[MAGIC_COOKIE_KEY] = MAGIC_COOKIE_VALUE
    env[ENV_PROTOCOL_VERSIONS] = ",".join(str(v) for v in sorted(set(app_versions)))
    env[ENV_MIN_PORT] = str(min_port)
    env[ENV_MAX_PORT] = str(max_port)
    env[ENV_HOST_PID] = str(os.getpid())
    if log_level:
        env[ENV_LOG_LEVEL] = log_level
    return env


def port_range_from_env(env: Mapping[str, str]) -> tuple[int, int]:
    """PLUGIN_MIN_PORT/PLUGIN_MAX_PORT as go-plugin reads them (unset = 0)."""
    low = _port(env.get(ENV_MIN_PORT), ENV_MIN_PORT)
    high = _port(env.get(ENV_MAX_PORT), ENV_MAX_PORT)
    if low > high:
        raise HandshakeError(f"{ENV_MIN_PORT} value of {low} is greater than {ENV_MAX_PORT} {high}")
    return low, high


def _port(value: str | None, name: str) -> int:
    if not value:
        return 0
    if not value.isdigit() or int(value) > 65535:
        raise HandshakeError(f"{name} must be a port number, got {value!r}")
    return int(value)
