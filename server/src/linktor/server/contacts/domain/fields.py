"""The editable fields of a contact: their limits and canonical forms.

Validation collects every violation of a request at once (a form shows them all), each named
by its field path in the API (``contact.tags[3]``, ``contact.attributes["plan"]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from linktor.server.contacts.domain.contact import Contact
from linktor.server.shared.errors import FieldViolation, InvalidArgument
from linktor.server.shared.tags import normalize_tags

MAX_DISPLAY_NAME = 200
MAX_TAGS = 50
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_BYTES = 64
MAX_ATTRIBUTE_VALUE_BYTES = 1024
MAX_AVATAR_URL = 2048

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# BCP-47 shaped: a language subtag, then subtags of letters and digits ("pt-BR", "zh-Hant-TW").
_LOCALE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ().-]+$")


@dataclass(frozen=True)
class ContactFields:
    """Values for a contact's editable fields; None leaves a field as it is."""

    display_name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    locale: str | None = None
    avatar_url: str | None = None
    tags: tuple[str, ...] | None = None
    attributes: Mapping[str, str] | None = field(default=None)


def _attributes(values: Mapping[str, str], field_path: str) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if len(values) > MAX_ATTRIBUTES:
        found.append(
            FieldViolation(field_path, f"at most {MAX_ATTRIBUTES} attributes (got {len(values)})")
        )
    for key in sorted(values):
        path = f"{field_path}[{key!r}]"
        if not key.strip():
            found.append(FieldViolation(path, "keys must not be empty"))
        elif len(key.encode()) > MAX_ATTRIBUTE_KEY_BYTES:
            found.append(FieldViolation(path, f"keys are at most {MAX_ATTRIBUTE_KEY_BYTES} bytes"))
        if len(values[key].encode()) > MAX_ATTRIBUTE_VALUE_BYTES:
            found.append(
                FieldViolation(path, f"values are at most {MAX_ATTRIBUTE_VALUE_BYTES} bytes")
            )
    return found


def normalize_phone(value: str) -> str | None:
    """E.164 ("+" and 6 to 15 digits) from a loosely written number; None if it is not one."""
    if not _PHONE_CHARS.match(value):
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    return "+" + digits if 6 <= len(digits) <= 15 else None


def validate_fields(values: ContactFields, prefix: str = "contact") -> ContactFields:
    """The values in canonical form; InvalidArgument listing every violation."""
    found: list[FieldViolation] = []
    display_name = email = phone = locale = avatar = None
    tags: tuple[str, ...] | None = None
    if values.display_name is not None:
        display_name = values.display_name.strip()
        if len(display_name) > MAX_DISPLAY_NAME:
            found.append(
                FieldViolation(
                    f"{prefix}.display_name", f"must be at most {MAX_DISPLAY_NAME} characters"
                )
            )
    if values.email is not None:
        email = values.email.strip().lower()
        if email and (len(email) > 320 or not _EMAIL.match(email)):
            found.append(
                FieldViolation(f"{prefix}.email", "must be an email address like ana@example.com")
            )
    if values.phone_number is not None:
        phone = values.phone_number.strip()
        if phone:
            phone = normalize_phone(phone) or ""
            if not phone:
                found.append(
                    FieldViolation(
                        f"{prefix}.phone_number", "must be a phone number in E.164 (+5511999990000)"
                    )
                )
    if values.locale is not None:
        locale = values.locale.strip()
        if locale and (len(locale) > 35 or not _LOCALE.match(locale)):
            found.append(FieldViolation(f"{prefix}.locale", "must be a BCP-47 tag like pt-BR"))
    if values.avatar_url is not None:
        avatar = values.avatar_url.strip()
        if avatar and (
            len(avatar) > MAX_AVATAR_URL or not avatar.startswith(("https://", "http://"))
        ):
            found.append(
                FieldViolation(
                    f"{prefix}.avatar_url",
                    f"must be an http(s) URL of at most {MAX_AVATAR_URL} characters",
                )
            )
    if values.tags is not None:
        tags, tag_violations = normalize_tags(values.tags, f"{prefix}.tags", MAX_TAGS)
        found += tag_violations
    if values.attributes is not None:
        found += _attributes(values.attributes, f"{prefix}.attributes")
    if found:
        summary = "; ".join(f"{v.field}: {v.description}" for v in found)
        raise InvalidArgument(f"invalid contact: {summary}", found)
    return ContactFields(
        display_name=display_name,
        email=email,
        phone_number=phone,
        locale=locale,
        avatar_url=avatar,
        tags=tags,
        attributes=dict(values.attributes) if values.attributes is not None else None,
    )


def apply_fields(contact: Contact, values: ContactFields, now: datetime) -> Contact:
    """``contact`` with the (validated) values that are set."""
    changes: dict[str, object] = {
        name: getattr(values, name)
        for name in ("display_name", "email", "phone_number", "locale", "avatar_url", "tags")
        if getattr(values, name) is not None
    }
    if values.attributes is not None:
        changes["attributes"] = dict(values.attributes)
    return replace(contact, update_time=now, **changes)  # type: ignore[arg-type]
