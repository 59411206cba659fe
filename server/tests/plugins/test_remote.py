"""Remote adapters reached by address: plaintext, mutual TLS, unreachable, wrong type."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lktest.adapters import FAKE_ADAPTER, FAST, WEBCHAT, fake_send
from lktest.services import free_port

from linktor.server.plugins.host import PluginHost
from linktor.server.plugins.remote import RemoteTls
from linktor.server.plugins.state import AdapterState, AdapterStatus
from linktor.server.shared.errors import FailedPrecondition, InvalidArgument, Unavailable

pytestmark = pytest.mark.integration


@asynccontextmanager
async def remote_fake(env: Mapping[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """The fake adapter in remote mode, once it listens."""
    process = await asyncio.create_subprocess_exec(
        *FAKE_ADAPTER,
        env={**_base_env(), **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(30):
            while b"remote adapter listening" not in await process.stderr.readline():
                assert process.returncode is None
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "LINKTOR_PLUGIN"}


def _write_cert(
    path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate
) -> tuple[Path, Path]:
    cert_path, key_path = path.with_suffix(".crt"), path.with_suffix(".key")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _issue(
    name: str,
    issuer: x509.Name | None,
    signer: ec.EllipticCurvePrivateKey | None,
    *,
    ca: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return key, builder.sign(signer or key, hashes.SHA256())


async def test_plaintext_remote_adapter() -> None:
    port = free_port()
    host = PluginHost({}, options=FAST, acquire_timeout=10)
    seen: list[AdapterStatus] = []
    unreachable = asyncio.Event()

    def observe(status: AdapterStatus) -> None:
        seen.append(status)
        if status.state is AdapterState.UNREACHABLE:
            unreachable.set()

    host.watch(observe)
    try:
        async with remote_fake({"LINKTOR_ADAPTER_LISTEN": f"127.0.0.1:{port}"}):
            handle = await host.acquire(WEBCHAT, address=f"127.0.0.1:{port}")
            assert handle.pid is None
            assert (await handle.stub.Send(fake_send(), timeout=5)).provider_message_id
            assert host.statuses()[0].state is AdapterState.READY
        # The remote process is gone: the health watch notices.
        await asyncio.wait_for(unreachable.wait(), 10)
        with pytest.raises(Unavailable):
            await host.acquire(WEBCHAT, address=f"127.0.0.1:{port}")
        # And back when it is.
        async with remote_fake({"LINKTOR_ADAPTER_LISTEN": f"127.0.0.1:{port}"}):
            handle = await host.acquire(WEBCHAT, address=f"127.0.0.1:{port}")
            assert (await handle.stub.Send(fake_send("m2"), timeout=5)).provider_message_id
    finally:
        await host.close()
    assert [s.state for s in seen][:2] == [AdapterState.READY, AdapterState.UNREACHABLE]


async def test_mutual_tls_remote_adapter(tmp_path: Path) -> None:
    ca_key, ca_cert = _issue("linktor test CA", None, None, ca=True)
    ca_path, _ = _write_cert(tmp_path / "ca", ca_key, ca_cert)
    server_cert, server_key = _write_cert(
        tmp_path / "server", *_issue("adapter", ca_cert.subject, ca_key)
    )
    client_cert, client_key = _write_cert(
        tmp_path / "client", *_issue("linktor", ca_cert.subject, ca_key)
    )
    port = free_port()
    env = {
        "LINKTOR_ADAPTER_LISTEN": f"127.0.0.1:{port}",
        "LINKTOR_ADAPTER_TLS_CERT": str(server_cert),
        "LINKTOR_ADAPTER_TLS_KEY": str(server_key),
        "LINKTOR_ADAPTER_TLS_CLIENT_CA": str(ca_path),
    }
    async with remote_fake(env):
        good = PluginHost(
            {}, options=FAST, acquire_timeout=10, tls=RemoteTls(ca_path, client_cert, client_key)
        )
        try:
            handle = await good.acquire(WEBCHAT, address=f"tls://127.0.0.1:{port}")
            assert (await handle.stub.Send(fake_send(), timeout=5)).provider_message_id
        finally:
            await good.close()
        # Without a client certificate the server refuses the handshake.
        anonymous = PluginHost({}, options=FAST, acquire_timeout=1, tls=RemoteTls(ca_path))
        try:
            with pytest.raises(Unavailable, match="unreachable"):
                await anonymous.acquire(WEBCHAT, address=f"tls://127.0.0.1:{port}")
        finally:
            await anonymous.close()
        # Plaintext to a TLS port does not work either.
        plain = PluginHost({}, options=FAST, acquire_timeout=1)
        try:
            with pytest.raises(Unavailable):
                await plain.acquire(WEBCHAT, address=f"127.0.0.1:{port}")
        finally:
            await plain.close()


async def test_a_remote_adapter_of_another_type_is_refused() -> None:
    port = free_port()
    host = PluginHost({}, options=FAST, acquire_timeout=10)
    try:
        async with remote_fake(
            {"LINKTOR_ADAPTER_LISTEN": f"127.0.0.1:{port}", "LINKTOR_FAKE_CHANNEL_TYPE": "sms"}
        ):
            with pytest.raises(FailedPrecondition, match="serves SMS, not WEBCHAT"):
                await host.acquire(WEBCHAT, address=f"127.0.0.1:{port}")
    finally:
        await host.close()


async def test_unreachable_and_malformed_addresses() -> None:
    host = PluginHost({}, options=FAST, acquire_timeout=0.5)
    try:
        with pytest.raises(Unavailable, match="unreachable"):
            await host.acquire(WEBCHAT, address=f"127.0.0.1:{free_port()}")
        assert host.statuses()[0].state is AdapterState.UNREACHABLE
        with pytest.raises(InvalidArgument, match="adapter_address"):
            await host.acquire(WEBCHAT, address="http://example.com")
    finally:
        await host.close()


def test_without_cookie_or_listen_address_the_adapter_explains_itself() -> None:
    result = subprocess.run(
        FAKE_ADAPTER, env=_base_env(), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "LINKTOR_ADAPTER_LISTEN=127.0.0.1:7000 python -m linktor.adapters.fake" in result.stderr
