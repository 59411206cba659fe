"""The fake Graph API itself answers like Meta documents (so adapter tests prove something)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from whatsapp_fake_graph import FakeGraphApi, template

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def graph(fake: FakeGraphApi) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"authorization": f"Bearer {fake.access_token}"}
    async with httpx.AsyncClient(base_url=f"{fake.base_url}/v26.0", headers=headers) as client:
        yield client


def text(to: str = "16505551234", **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": "hi"},
        **extra,
    }


async def test_send_answer_shape(graph: httpx.AsyncClient, fake: FakeGraphApi) -> None:
    answer = await graph.post(f"/{fake.phone_number_id}/messages", json=text("+16505551234"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+16505551234", "wa_id": "16505551234"}]
    assert body["messages"][0]["id"].startswith("wamid.")


async def test_error_body_shape_and_bad_token(fake: FakeGraphApi) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{fake.base_url}/v26.0/{fake.phone_number_id}/messages",
            json=text(),
            headers={"authorization": "Bearer nope"},
        )
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert set(error) >= {"message", "type", "code", "error_data", "fbtrace_id"}
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert error["error_data"]["messaging_product"] == "whatsapp"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**text(), "messaging_product": "sms"}, "messaging_product"),
        ({**text(), "recipient_type": "broadcast"}, "recipient_type"),
        ({k: v for k, v in text().items() if k != "to"}, "to"),
        ({**text(), "text": {"body": "x" * 4097}}, "4096"),
        (
            {**text(), "type": "image", "image": {"link": "https://x/a.jpg", "id": "1"}},
            "exactly one",
        ),
        (
            {**text(), "type": "audio", "audio": {"link": "https://x/a.mp3", "caption": "c"}},
            "caption",
        ),
        (
            {
                **text(),
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "b"},
                    "action": {
                        "buttons": [
                            {"type": "reply", "reply": {"id": str(i), "title": "t"}}
                            for i in range(4)
                        ]
                    },
                },
            },
            "between 1 and 3",
        ),
        (
            {
                **text(),
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": "b"},
                    "action": {
                        "button": "b",
                        "sections": [
                            {
                                "title": "s",
                                "rows": [{"id": str(i), "title": "t"} for i in range(11)],
                            }
                        ],
                    },
                },
            },
            "between 1 and 10",
        ),
        (
            {**text(), "type": "contacts", "contacts": [{"name": {"formatted_name": "A"}}]},
            "first_name",
        ),
    ],
)
async def test_documented_validation(
    graph: httpx.AsyncClient, fake: FakeGraphApi, body: dict[str, Any], words: str
) -> None:
    answer = await graph.post(f"/{fake.phone_number_id}/messages", json=body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == 100
    assert words in error["message"]
    assert fake.sent == []


async def test_templates_must_exist_and_match_parameter_counts(
    graph: httpx.AsyncClient, fake: FakeGraphApi
) -> None:
    missing = await graph.post(
        f"/{fake.phone_number_id}/messages",
        json={
            **text(),
            "type": "template",
            "template": {"name": "x", "language": {"code": "en_US"}},
        },
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, 132001)
    fake.templates.append(template("greet", body="Hi {{1}}"))
    mismatch = await graph.post(
        f"/{fake.phone_number_id}/messages",
        json={
            **text(),
            "type": "template",
            "template": {"name": "greet", "language": {"code": "en_US"}},
        },
    )
    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (400, 132000)


async def test_programmed_rate_limit_with_headers(
    graph: httpx.AsyncClient, fake: FakeGraphApi
) -> None:
    fake.fail_next(130429, http_status=429, retry_after="2")
    throttled = await graph.post(f"/{fake.phone_number_id}/messages", json=text())
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "2"
    assert throttled.json()["error"]["message"] == "(#130429) Rate limit hit"
    assert (await graph.post(f"/{fake.phone_number_id}/messages", json=text())).status_code == 200


async def test_unknown_objects_and_media_upload_rules(
    graph: httpx.AsyncClient, fake: FakeGraphApi
) -> None:
    unknown = await graph.get("/123456")
    assert (unknown.status_code, unknown.json()["error"]["error_subcode"]) == (400, 33)
    no_product = await graph.post(
        f"/{fake.phone_number_id}/media", files={"file": ("a.jpg", b"x", "image/jpeg")}
    )
    assert no_product.json()["error"]["code"] == 100
    wrong_type = await graph.post(
        f"/{fake.phone_number_id}/media",
        data={"messaging_product": "whatsapp"},
        files={"file": ("a.gif", b"x", "image/gif")},
    )
    assert "image/jpeg" in wrong_type.json()["error"]["message"]
    ok = await graph.post(
        f"/{fake.phone_number_id}/media",
        data={"messaging_product": "whatsapp"},
        files={"file": ("a.jpg", b"jpeg", "image/jpeg")},
    )
    media_id = ok.json()["id"]
    info = (await graph.get(f"/{media_id}")).json()
    assert (info["mime_type"], info["file_size"], info["id"]) == ("image/jpeg", 4, media_id)
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(info["url"])).status_code == 401


async def test_reply_window_failure_arrives_as_a_failed_status(
    graph: httpx.AsyncClient, fake: FakeGraphApi
) -> None:
    fake.enforce_reply_window = True
    assert (await graph.post(f"/{fake.phone_number_id}/messages", json=text())).status_code == 200
    (status,) = fake.pending_statuses
    assert (status["status"], status["errors"][0]["code"]) == ("failed", 131047)
    fake.pending_statuses.clear()
    fake.customer_wrote("16505551234")
    assert (await graph.post(f"/{fake.phone_number_id}/messages", json=text())).status_code == 200
    assert fake.pending_statuses == []
