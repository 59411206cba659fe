"""Access tokens as JWTs (PyJWT), accepting only the configured algorithm."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt

from linktor.server.identity.domain.session import AccessClaims
from linktor.server.shared.errors import Unauthenticated

_REQUIRED = ["exp", "iat", "iss", "aud", "sub", "tid", "sid"]


class JwtAccessTokens:
    """Signs with ``signing_key`` and verifies with ``verification_key`` (the same secret for
    HS*, the private and public key for RS256/ES256). Tokens of any other algorithm,
    ``none`` included, are refused before their signature is even looked at."""

    def __init__(
        self,
        *,
        algorithm: str,
        signing_key: Any,
        verification_key: Any,
        issuer: str,
        audience: str,
        leeway_seconds: float = 30.0,
    ) -> None:
        self._algorithm = algorithm
        self._signing_key = signing_key
        self._verification_key = verification_key
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    def issue(self, claims: AccessClaims) -> str:
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": claims.user_id,
            "tid": claims.tenant_id,
            "sid": claims.session_id,
            "iat": int(claims.issue_time.timestamp()),
            "exp": int(claims.expire_time.timestamp()),
            "typ": "access",
        }
        return jwt.encode(payload, self._signing_key, algorithm=self._algorithm)

    def verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise Unauthenticated("the access token is not a well-formed JWT") from exc
        if header.get("alg") != self._algorithm:
            raise Unauthenticated(
                f"the access token is signed with {header.get('alg')!r};"
                f" this server accepts only {self._algorithm}"
            )
        try:
            payload = jwt.decode(
                token,
                self._verification_key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the access token has expired; refresh it or log in") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated("the access token is not meant for this API") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthenticated("the access token was not issued by this server") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"the access token lacks the {exc.claim!r} claim") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthenticated("the access token's signature is not valid") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("the access token is not valid") from exc
        if payload.get("typ") != "access":
            raise Unauthenticated("the token is not an access token")
        return AccessClaims(
            user_id=str(payload["sub"]),
            tenant_id=str(payload["tid"]),
            session_id=str(payload["sid"]),
            issue_time=datetime.fromtimestamp(int(payload["iat"]), UTC),
            expire_time=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
