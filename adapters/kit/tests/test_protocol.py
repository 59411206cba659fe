"""The handshake line and version negotiation, against go-plugin's client.go/server.go rules."""

from __future__ import annotations

import os

import pytest

from linktor.adapterkit import protocol
from linktor.adapterkit.protocol import HandshakeError, HandshakeLine

pytestmark = pytest.mark.unit


def test_formats_the_line_go_plugin_prints() -> None:
    line = HandshakeLine(1, 1, "tcp", "127.0.0.1:41234")
    assert line.format() == "1|1|tcp|127.0.0.1:41234|grpc"
    assert HandshakeLine.parse(line.format() + "\n") == line


def test_parses_a_go_plugin_unix_line_with_an_empty_certificate_field() -> None:
    line = HandshakeLine.parse("1|1|unix|/tmp/plugin123456|grpc|\n")
    assert (line.network, line.address, line.server_cert) == ("unix", "/tmp/plugin123456", "")
    assert line.grpc_target == "unix:/tmp/plugin123456"


def test_ignores_a_short_sixth_field_like_go_plugin() -> None:
    assert HandshakeLine.parse("1|1|tcp|127.0.0.1:1|grpc|junk").server_cert == ""
    cert = "A" * 60
    assert HandshakeLine.parse(f"1|1|tcp|127.0.0.1:1|grpc|{cert}").server_cert == cert


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("hello world", "unrecognized plugin handshake line"),
        ("1|1|tcp", "unrecognized plugin handshake line"),
        ("2|1|tcp|127.0.0.1:1|grpc", "core protocol version 2"),
        ("x|1|tcp|127.0.0.1:1|grpc", "not a number"),
        ("1|7|tcp|127.0.0.1:1|grpc", "app protocol version 7"),
        ("1|1|udp|127.0.0.1:1|grpc", "unknown network type"),
        ("1|1|tcp||grpc", "empty address"),
        ("1|1|tcp|127.0.0.1:1", "'netrpc'"),
        ("1|1|tcp|127.0.0.1:1|netrpc", "'netrpc'"),
    ],
)
def test_rejects_bad_lines_with_a_reason(line: str, message: str) -> None:
    with pytest.raises(HandshakeError, match=message):
        HandshakeLine.parse(line)


def test_negotiation_picks_the_highest_common_version() -> None:
    assert protocol.negotiate_app_version("1,2,3", supported=(1, 2)) == 2
    assert protocol.negotiate_app_version("3, 1", supported=(1, 2)) == 1


def test_negotiation_falls_back_to_our_lowest_version() -> None:
    # go-plugin serves its oldest version to a legacy host that sent no list.
    assert protocol.negotiate_app_version(None, supported=(2, 3)) == 2
    assert protocol.negotiate_app_version("9", supported=(2, 3)) == 2


def test_plugin_environment_carries_the_handshake() -> None:
    env = protocol.plugin_environment(
        app_versions=(2, 1),
        min_port=10000,
        max_port=25000,
        log_level="debug",
        base={"PATH": "/bin", "PLUGIN_CLIENT_CERT": "someone else's"},
    )
    assert env == {
        "PATH": "/bin",
        protocol.MAGIC_COOKIE_KEY: protocol.MAGIC_COOKIE_VALUE,
        "PLUGIN_PROTOCOL_VERSIONS": "1,2",
        "PLUGIN_MIN_PORT": "10000",
        "PLUGIN_MAX_PORT": "25000",
        "LINKTOR_ADAPTER_LOG_LEVEL": "debug",
        "LINKTOR_ADAPTER_HOST_PID": str(os.getpid()),
    }


def test_port_range() -> None:
    assert protocol.port_range_from_env({}) == (0, 0)
    assert protocol.port_range_from_env({"PLUGIN_MIN_PORT": "10", "PLUGIN_MAX_PORT": "20"}) == (
        10,
        20,
    )
    with pytest.raises(HandshakeError, match="greater than"):
        protocol.port_range_from_env({"PLUGIN_MIN_PORT": "20", "PLUGIN_MAX_PORT": "10"})
    with pytest.raises(HandshakeError, match="port number"):
        protocol.port_range_from_env({"PLUGIN_MIN_PORT": "ten"})
