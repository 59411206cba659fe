from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from linktor.adapterkit import sign_base64, sign_hex, verify_any_secret, verify_hmac_sha256

pytestmark = pytest.mark.unit

BODY = b'{"entry":[{"id":"1"}]}'
SECRET = "app-secret"
# Computed independently of the kit.
EXPECTED_HEX = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()


def test_signs_like_providers_do() -> None:
    assert sign_hex(SECRET, BODY, prefix="sha256=") == "sha256=" + EXPECTED_HEX
    assert sign_base64(SECRET, BODY) == base64.b64encode(bytes.fromhex(EXPECTED_HEX)).decode()


@pytest.mark.parametrize(
    "header",
    ["sha256=" + EXPECTED_HEX, "SHA256=" + EXPECTED_HEX.upper(), f"  sha256={EXPECTED_HEX}  "],
)
def test_accepts_a_valid_prefixed_hex_signature(header: str) -> None:
    assert verify_hmac_sha256(SECRET, BODY, header, prefix="sha256=")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        EXPECTED_HEX,  # prefix missing
        "sha256=",
        "sha256=zz" + EXPECTED_HEX[2:],  # not hex
        "sha256=" + EXPECTED_HEX[:-2],  # truncated
        "sha1=" + EXPECTED_HEX,
        "sha256=" + hmac.new(b"other", BODY, hashlib.sha256).hexdigest(),
    ],
)
def test_rejects_anything_else(header: str | None) -> None:
    assert not verify_hmac_sha256(SECRET, BODY, header, prefix="sha256=")


def test_rejects_a_signature_over_other_bytes_and_an_empty_secret() -> None:
    header = "sha256=" + EXPECTED_HEX
    assert not verify_hmac_sha256(SECRET, BODY + b" ", header, prefix="sha256=")
    assert not verify_hmac_sha256("", BODY, header, prefix="sha256=")


def test_base64_signatures() -> None:
    good = sign_base64(SECRET, BODY)
    assert verify_hmac_sha256(SECRET.encode(), BODY, good, encoding="base64")
    assert not verify_hmac_sha256(SECRET, BODY, "!!" + good, encoding="base64")


def test_rotation_accepts_any_configured_secret() -> None:
    header = sign_hex("new", BODY)
    assert verify_any_secret(["old", "new"], BODY, header)
    assert not verify_any_secret(["old", ""], BODY, header)
