"""Access-token attacks: only the configured algorithm, issuer and audience are accepted."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from linktor.server.identity.adapters.jwt_tokens import JwtAccessTokens
from linktor.server.identity.domain.session import AccessClaims
from linktor.server.shared.errors import Unauthenticated

pytestmark = pytest.mark.unit

SECRET = b"s" * 64


def now() -> datetime:
    # Read per call: a module-level "now" goes stale when the suite runs long.
    return datetime.now(UTC).replace(microsecond=0)


def hs256(**overrides: Any) -> JwtAccessTokens:
    options: dict[str, Any] = {
        "algorithm": "HS256",
        "signing_key": SECRET,
        "verification_key": SECRET,
        "issuer": "linktor",
        "audience": "linktor-api",
    }
    options.update(overrides)
    return JwtAccessTokens(**options)


def claims(expire_in: timedelta = timedelta(minutes=15)) -> AccessClaims:
    issued = now()
    return AccessClaims("u1", "acme", "s1", issued, issued + expire_in)


def payload(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "iss": "linktor",
        "aud": "linktor-api",
        "sub": "u1",
        "tid": "acme",
        "sid": "s1",
        "iat": int(now().timestamp()),
        "exp": int((now() + timedelta(minutes=15)).timestamp()),
        "typ": "access",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def rejected(tokens: JwtAccessTokens, token: str) -> str:
    with pytest.raises(Unauthenticated) as info:
        tokens.verify(token)
    return info.value.message


def test_a_valid_token_round_trips() -> None:
    tokens, made = hs256(), claims()
    assert tokens.verify(tokens.issue(made)) == made


def test_alg_none_is_refused() -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload())}."
    assert (
        rejected(hs256(), token)
        == "the access token is signed with 'none'; this server accepts only HS256"
    )


def test_another_hmac_algorithm_is_refused() -> None:
    token = jwt.encode(payload(), SECRET, algorithm="HS512")
    assert "accepts only HS256" in rejected(hs256(), token)


def test_rs_to_hs_confusion_is_refused() -> None:
    """Server on RS256: a token HMAC-signed with the PUBLIC key must not pass."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key()
    rs = JwtAccessTokens(
        algorithm="RS256",
        signing_key=private,
        verification_key=public,
        issuer="linktor",
        audience="linktor-api",
    )
    assert rs.verify(rs.issue(claims())).tenant_id == "acme"
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64({"alg": "HS256", "typ": "JWT"})
    body = b64(payload())
    import hashlib
    import hmac

    signature = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"
    assert "accepts only RS256" in rejected(rs, forged)
    # And the other way round: an HS256 server refuses an RS256 token.
    rs_token = jwt.encode(payload(), private, algorithm="RS256")
    assert "accepts only HS256" in rejected(hs256(), rs_token)


def test_expired_tokens_are_refused() -> None:
    tokens = hs256(leeway_seconds=0)
    old = tokens.issue(
        AccessClaims("u1", "acme", "s1", now() - timedelta(hours=1), now() - timedelta(minutes=1))
    )
    assert rejected(tokens, old) == "the access token has expired; refresh it or log in"


def test_forged_signature_and_tampered_payload_are_refused() -> None:
    forged = jwt.encode(payload(), b"another secret that is long enough!!", algorithm="HS256")
    assert rejected(hs256(), forged) == "the access token's signature is not valid"
    genuine = hs256().issue(claims())
    header, _body, signature = genuine.split(".")
    tampered = f"{header}.{b64(payload(tid='victim'))}.{signature}"
    assert rejected(hs256(), tampered) == "the access token's signature is not valid"


def test_wrong_audience_issuer_type_and_missing_claims_are_refused() -> None:
    tokens = hs256()
    assert rejected(tokens, jwt.encode(payload(aud="other"), SECRET, algorithm="HS256")) == (
        "the access token is not meant for this API"
    )
    assert rejected(tokens, jwt.encode(payload(iss="evil"), SECRET, algorithm="HS256")) == (
        "the access token was not issued by this server"
    )
    assert rejected(tokens, jwt.encode(payload(tid=None), SECRET, algorithm="HS256")) == (
        "the access token lacks the 'tid' claim"
    )
    assert rejected(tokens, jwt.encode(payload(typ="refresh"), SECRET, algorithm="HS256")) == (
        "the token is not an access token"
    )
    assert rejected(tokens, "not.a.jwt") == "the access token is not a well-formed JWT"
