# The table below keeps one error per line so it reads as a table: long lines are intended.
# ruff: noqa: E501
"""Meta error codes -> Linktor's normalized MessageError, as ONE table.

Meta recommends building error handling on the numeric ``code`` (and the details), not
on titles, so the table is keyed by code. Each row says which Linktor code the error
becomes, whether retrying the same message can succeed, and a sentence for the person
reading the failed message. docs/channels/whatsapp.md shows the same table.

Codes not in the table keep Meta's code and text; they are retryable when the HTTP status
is 5xx or 429, or when Meta flags the error ``is_transient``.
"""

from __future__ import annotations

from dataclasses import dataclass

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import Code, send_error
from linktor.v1 import message_pb2

# Linktor error codes this adapter produces: the kit's shared vocabulary first, then the
# WhatsApp-specific refinements (codes are open-ended strings).
RATE_LIMITED = Code.RATE_LIMITED
REPLY_WINDOW_CLOSED = Code.REPLY_WINDOW_CLOSED
INVALID_RECIPIENT = Code.INVALID_RECIPIENT
INVALID_CONTENT = Code.INVALID_CONTENT
INVALID_CONFIG = Code.INVALID_CONFIG
UNAUTHENTICATED = Code.UNAUTHENTICATED
PROVIDER_UNAVAILABLE = Code.PROVIDER_UNAVAILABLE
PROVIDER_ERROR = Code.PROVIDER_ERROR
TIMEOUT = Code.TIMEOUT
UNDELIVERABLE = "UNDELIVERABLE"
RECIPIENT_OPTED_OUT = "RECIPIENT_OPTED_OUT"
INVALID_REQUEST = "INVALID_REQUEST"
PERMISSION_DENIED = "PERMISSION_DENIED"
ACCOUNT_RESTRICTED = "ACCOUNT_RESTRICTED"
TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND"
TEMPLATE_PARAMS_MISMATCH = "TEMPLATE_PARAMS_MISMATCH"
TEMPLATE_INVALID = "TEMPLATE_INVALID"
TEMPLATE_PAUSED = "TEMPLATE_PAUSED"
TEMPLATE_DISABLED = "TEMPLATE_DISABLED"
MEDIA_ERROR = "MEDIA_ERROR"


@dataclass(frozen=True)
class ErrorRule:
    """How one Meta error code is normalized."""

    code: str
    retryable: bool
    reason: str
    # The wait before retrying when Meta gives no hint itself.
    retry_after_seconds: float = 0.0


# fmt: off
ERROR_TABLE: dict[int, ErrorRule] = {
    # Authorization
    0: ErrorRule(UNAUTHENTICATED, False, "Meta could not authenticate the access token; generate a new System User token."),
    3: ErrorRule(PERMISSION_DENIED, False, "The app lacks the capability or permission this call needs."),
    10: ErrorRule(PERMISSION_DENIED, False, "Permission not granted or removed; grant whatsapp_business_messaging to the token."),
    190: ErrorRule(UNAUTHENTICATED, False, "The access token expired or is invalid; replace secrets.access_token with a permanent System User token."),
    # Throttling: retry after a pause
    4: ErrorRule(RATE_LIMITED, True, "The app reached its Graph API call rate limit.", 60.0),
    613: ErrorRule(RATE_LIMITED, True, "Graph API call rate limit exceeded.", 60.0),
    80007: ErrorRule(RATE_LIMITED, True, "The WhatsApp Business Account reached its API rate limit.", 60.0),
    130429: ErrorRule(RATE_LIMITED, True, "Cloud API message throughput of the phone number was reached.", 1.0),
    131056: ErrorRule(RATE_LIMITED, True, "Too many messages to the same recipient in a short time (pair rate limit).", 6.0),
    131048: ErrorRule(ACCOUNT_RESTRICTED, False, "Spam rate limit: too many earlier messages were blocked or flagged; check the number's quality rating."),
    # Integrity
    368: ErrorRule(ACCOUNT_RESTRICTED, False, "The business account is temporarily blocked for policy violations."),
    130497: ErrorRule(ACCOUNT_RESTRICTED, False, "The business account is restricted from messaging users in this country."),
    131031: ErrorRule(ACCOUNT_RESTRICTED, False, "The business account has been locked."),
    131042: ErrorRule(ACCOUNT_RESTRICTED, False, "Business eligibility or payment issue; check the WABA's payment method."),
    # Customer service window
    131047: ErrorRule(REPLY_WINDOW_CLOSED, False, "More than 24 hours passed since the customer last wrote; only a template message can be sent now."),
    # Recipient and delivery
    131021: ErrorRule(INVALID_RECIPIENT, False, "The recipient is the sending business number itself."),
    131026: ErrorRule(UNDELIVERABLE, False, "Message undeliverable: the number may not be on WhatsApp, may not have accepted the latest terms, or uses an outdated app."),
    131030: ErrorRule(INVALID_RECIPIENT, False, "The recipient is not in the test number's allowed list; add it in the Meta app."),
    130472: ErrorRule(UNDELIVERABLE, False, "The recipient's number is part of a Meta experiment; the message was not sent."),
    131049: ErrorRule(UNDELIVERABLE, False, "Meta did not deliver this marketing message to keep the recipient's engagement healthy; do not resend soon."),
    131050: ErrorRule(RECIPIENT_OPTED_OUT, False, "The recipient stopped marketing messages from this business."),
    # Request content
    100: ErrorRule(INVALID_REQUEST, False, "Meta rejected a parameter of the request (invalid parameter)."),
    33: ErrorRule(INVALID_CONFIG, False, "The business phone number was deleted or the ID is wrong; check config.phone_number_id."),
    131008: ErrorRule(INVALID_REQUEST, False, "A required parameter is missing."),
    131009: ErrorRule(INVALID_REQUEST, False, "A parameter value is not valid."),
    131051: ErrorRule(INVALID_CONTENT, False, "Unsupported message type."),
    131052: ErrorRule(MEDIA_ERROR, False, "The media sent by the user could not be downloaded."),
    131053: ErrorRule(MEDIA_ERROR, False, "The media could not be uploaded or fetched from its URL (unreachable link or wrong type)."),
    # Templates
    132000: ErrorRule(TEMPLATE_PARAMS_MISMATCH, False, "The number of template parameters does not match the approved template."),
    132001: ErrorRule(TEMPLATE_NOT_FOUND, False, "The template does not exist in this language or is not approved yet."),
    132005: ErrorRule(TEMPLATE_INVALID, False, "The template text with its parameters is too long."),
    132007: ErrorRule(TEMPLATE_INVALID, False, "The template content violates a WhatsApp policy."),
    132012: ErrorRule(TEMPLATE_PARAMS_MISMATCH, False, "A template parameter has the wrong format for its placeholder."),
    132015: ErrorRule(TEMPLATE_PAUSED, False, "The template is paused because of low quality; edit it or use another one."),
    132016: ErrorRule(TEMPLATE_DISABLED, False, "The template is permanently disabled because of low quality."),
    # Registration and account set-up
    131037: ErrorRule(INVALID_CONFIG, False, "The number needs an approved display name before it can send."),
    131045: ErrorRule(INVALID_CONFIG, False, "The phone number is not registered correctly (certificate)."),
    133010: ErrorRule(INVALID_CONFIG, False, "The phone number is not registered on the Cloud API."),
    131005: ErrorRule(PERMISSION_DENIED, False, "Access denied: the token lacks permission for this phone number."),
    # Meta-side trouble: retry later
    1: ErrorRule(PROVIDER_ERROR, True, "Unknown API error at Meta; retrying may succeed.", 5.0),
    2: ErrorRule(PROVIDER_UNAVAILABLE, True, "Meta's API service is temporarily unavailable.", 5.0),
    131000: ErrorRule(PROVIDER_ERROR, True, "Something went wrong at Meta; retrying may succeed.", 5.0),
    131016: ErrorRule(PROVIDER_UNAVAILABLE, True, "Meta's service is temporarily unavailable.", 5.0),
    131057: ErrorRule(PROVIDER_UNAVAILABLE, True, "The business account is in maintenance mode.", 60.0),
    133004: ErrorRule(PROVIDER_UNAVAILABLE, True, "Meta's server is temporarily unavailable.", 5.0),
    135000: ErrorRule(PROVIDER_ERROR, False, "Generic user error reported by Meta."),
}
# fmt: on

# Graph API permission errors span a whole range of codes.
_PERMISSION_RANGE = range(200, 300)
_PERMISSION_RULE = ErrorRule(
    PERMISSION_DENIED, False, "API permission not granted or removed for this token."
)


def rule_for(code: int) -> ErrorRule | None:
    """The table row for a Meta error code, if the adapter knows it."""
    if code in ERROR_TABLE:
        return ERROR_TABLE[code]
    if code in _PERMISSION_RANGE:
        return _PERMISSION_RULE
    return None


def _fallback_rule(http_status: int, transient: bool) -> ErrorRule:
    if http_status == 429:
        return ErrorRule(RATE_LIMITED, True, "Meta asked to slow down.", 1.0)
    if http_status >= 500 or transient:
        return ErrorRule(PROVIDER_UNAVAILABLE, True, "Meta reported a temporary error.", 5.0)
    if http_status == 401:
        return ErrorRule(UNAUTHENTICATED, False, "Meta rejected the credentials.")
    return ErrorRule(PROVIDER_ERROR, False, "Meta rejected the request.")


def send_error_from_graph(
    *,
    code: int | None,
    http_status: int,
    provider_message: str,
    details: str = "",
    transient: bool = False,
    retry_after_seconds: float | None = None,
) -> adapter_pb2.SendError:
    """Normalizes a Graph API error response (synchronous errors).

    ``code`` is None when Meta's answer had no Graph error body (a bare HTTP error).

    ``retry_after_seconds`` is Meta's own hint (Retry-After or the business use case
    usage header) and wins over the table's default pause.
    """
    known = rule_for(code) if code is not None else None
    rule = known or _fallback_rule(http_status, transient)
    wait = retry_after_seconds if retry_after_seconds is not None else rule.retry_after_seconds
    return send_error(
        rule.code,
        rule.reason,
        retryable=rule.retryable,
        provider_code=str(code) if code is not None else str(http_status),
        provider_message=f"{provider_message} ({details})" if details else provider_message,
        retry_after=wait if rule.retryable else None,
    )


def message_error_from_webhook(error: dict[str, object]) -> message_pb2.MessageError:
    """Normalizes one entry of a status webhook's ``errors`` array (asynchronous errors)."""
    raw_code = error.get("code")
    code = int(raw_code) if isinstance(raw_code, (int, str)) and str(raw_code).isdigit() else None
    title = str(error.get("title") or error.get("message") or "")
    error_data = error.get("error_data")
    details = str(error_data.get("details", "")) if isinstance(error_data, dict) else ""
    known = rule_for(code) if code is not None else None
    rule = known or ErrorRule(PROVIDER_ERROR, False, "Meta could not deliver the message.")
    return message_pb2.MessageError(
        code=rule.code,
        message=rule.reason,
        retryable=rule.retryable,
        provider_code="" if code is None else str(code),
        provider_message=f"{title} ({details})" if details else title,
    )


def transport_error(description: str, *, timeout: bool) -> adapter_pb2.SendError:
    """Normalizes a failure to reach Meta at all: always retryable."""
    if timeout:
        return send_error(
            TIMEOUT,
            "Meta's Graph API did not answer in time.",
            retryable=True,
            provider_message=description,
            retry_after=2.0,
        )
    return send_error(
        PROVIDER_UNAVAILABLE,
        "Meta's Graph API could not be reached.",
        retryable=True,
        provider_message=description,
        retry_after=2.0,
    )


def invalid_content(field: str, problem: str, code: str = INVALID_CONTENT) -> adapter_pb2.SendError:
    """A message the adapter refuses before calling Meta: names the field, never retryable."""
    return send_error(code, f"{field}: {problem}")


def invalid_config(description: str) -> adapter_pb2.SendError:
    """The channel configuration cannot be used for this call."""
    return send_error(INVALID_CONFIG, description)
