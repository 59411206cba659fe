"""Builders of ``messages`` webhook payloads in Meta's documented shape.

Used by the fake to deliver statuses and customer messages, and by tests to build
variations of the fixtures.
"""

from __future__ import annotations

import secrets
import time
from typing import Any


def new_wamid() -> str:
    """A message id in WhatsApp's style ("wamid." + base64)."""
    return "wamid.HBgL" + secrets.token_urlsafe(30)


def envelope(
    value: dict[str, Any],
    *,
    waba_id: str,
    phone_number_id: str,
    display_phone_number: str = "15550783881",
) -> dict[str, Any]:
    """One entry with one ``messages`` change carrying ``value``."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display_phone_number,
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def status_entry(
    wamid: str,
    status: str,
    recipient_id: str,
    *,
    error: dict[str, Any] | None = None,
    timestamp: int | None = None,
    category: str = "service",
) -> dict[str, Any]:
    """One entry of a ``statuses`` array (pricing for sent/delivered/read, errors for failed)."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp or int(time.time())),
        "recipient_id": recipient_id,
    }
    if status == "failed":
        entry["errors"] = [error or {}]
    else:
        entry["pricing"] = {
            "billable": category != "service",
            "pricing_model": "PMP",
            "type": "regular" if category != "service" else "free_customer_service",
            "category": category,
        }
    return entry


def webhook_error(code: int, title: str, details: str) -> dict[str, Any]:
    """An error object as status and ``errors`` webhooks carry it."""
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes",
    }


def text_message(
    wa_id: str, body: str, *, wamid: str | None = None, name: str = "Test Customer"
) -> dict[str, Any]:
    """The ``value`` of a customer's text message (contacts + messages)."""
    return {
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": wamid or new_wamid(),
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": body},
            }
        ],
    }
