"""A local fake of Meta's Graph API for WhatsApp Cloud API tests (a test fixture).

Usage from any test suite (put ``adapters/whatsapp/tests/support`` on the path, as the root
pytest and mypy configuration do)::

    from whatsapp_fake_graph import FakeGraphApi

    fake = FakeGraphApi(webhook_url="http://127.0.0.1:8080/webhooks/ch_1",
                        auto_statuses=("sent", "delivered", "read"))
    fake.templates.append(template("order_update", body="Order {{1}} shipped"))
    async with fake.serve() as base_url:
        # channel config: graph_base_url=base_url, phone_number_id=fake.phone_number_id,
        # waba_id=fake.waba_id; secrets: access_token=fake.access_token,
        # app_secret=fake.app_secret
        fake.fail_next(130429)                   # the next send is throttled
        await fake.send_customer_text("16505551234", "hi")   # signed inbound webhook
        ...
        assert fake.sent[-1]["type"] == "text"   # what Meta accepted
        await fake.drain()                       # wait for queued status deliveries

See FakeGraphApi for the whole programming surface and routes for the endpoints.
"""

from whatsapp_fake_graph.fake import FakeGraphApi
from whatsapp_fake_graph.meta_errors import CATALOGUE, GraphError, error_body
from whatsapp_fake_graph.payloads import envelope, new_wamid, status_entry, text_message
from whatsapp_fake_graph.records import RecordedRequest, StoredMedia
from whatsapp_fake_graph.templates import template

__all__ = [
    "CATALOGUE",
    "FakeGraphApi",
    "GraphError",
    "RecordedRequest",
    "StoredMedia",
    "envelope",
    "error_body",
    "new_wamid",
    "status_entry",
    "template",
    "text_message",
]
