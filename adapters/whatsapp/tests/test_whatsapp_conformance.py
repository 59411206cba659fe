"""The adapter kit's conformance suite, run against this adapter as the host would start it.

Twice: with an empty configuration (the adapter must refuse without calling Meta) and with a
configuration pointing at the fake Graph API (real sends of every declared content kind).
"""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from wa_support import ADAPTER_COMMAND, CUSTOMER, VERIFY_TOKEN
from whatsapp_fake_graph import FakeGraphApi, template

pytestmark = pytest.mark.integration

# The suite starts the adapter, runs every check and stops it; allow a loaded CI machine.
CONFORMANCE_TIMEOUT_SECONDS = 180.0


async def run_conformance(*options: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "linktor.adapterkit.conformance",
        *options,
        "--",
        *ADAPTER_COMMAND,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(CONFORMANCE_TIMEOUT_SECONDS):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


async def test_conformance_without_configuration() -> None:
    code, report = await run_conformance()
    assert code == 0, report


async def test_conformance_against_the_fake_graph_api(fake: FakeGraphApi) -> None:
    # The suite's template sample is Meta's own starter template.
    fake.templates.append(template("hello_world", body="Hello World"))
    config = {
        "phone_number_id": fake.phone_number_id,
        "waba_id": fake.waba_id,
        "graph_base_url": fake.base_url,
    }
    secrets = {
        "access_token": fake.access_token,
        "app_secret": fake.app_secret,
        "verify_token": VERIFY_TOKEN,
    }
    code, report = await run_conformance(
        "--config", json.dumps(config), "--secrets", json.dumps(secrets), "--recipient", CUSTOMER
    )
    assert code == 0, report
    assert fake.sent, "the suite's sends should have reached the fake Graph API"
