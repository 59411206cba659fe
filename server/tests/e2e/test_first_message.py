"""The README's first message, step by step, as a newcomer types it: `linktor tenant create`,
`msgfy login`, `msgfy channels add --type webchat`, the channel's try page, a visitor writes,
`msgfy conversations list`, `msgfy send --conversation`, and the visitor reads the answer."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from lktest.serve import running_serve, serve_env
from lktest.webchat import Visitor

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as page:
        return str(page.read().decode())


async def test_the_readme_first_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_serve(data) as serve:
        env = serve_env(data, {"LINKTOR_LOG_LEVEL": "warning"})
        env.update(
            LINKTOR_GRPC_ADDR=serve.grpc_target,
            XDG_CONFIG_HOME=str(tmp_path / "config"),
            HOME=str(tmp_path),
        )
        env.pop("LINKTOR_API_KEY", None)
        tenant = json.loads(
            run(
                [str(BIN / "linktor"), "tenant", "create", "--name", "Demo",
                 "--owner-email", "you@example.com"],
                env,
            )
        )  # fmt: skip
        secret = tenant["api_key"]["secret"]
        run([str(BIN / "msgfy"), "login", "--address", serve.grpc_target, "--api-key", secret], env)
        added = json.loads(
            run(
                [str(BIN / "msgfy"), "channels", "add", "--type", "webchat",
                 "--name", "Website chat", "--json"],
                env,
            )
        )  # fmt: skip
        key = str(added.get("webhook_url") or added["webhookUrl"]).rsplit("/", 1)[-1]

        html = await asyncio.to_thread(fetch, f"{serve.http_base}/webchat/{key}/try")
        assert f'data-channel="{key}"' in html

        visitor = Visitor.start(serve.http_base, key)
        await visitor.connect()
        await visitor.say("c1", "Hi, anyone there?")

        async def conversations() -> list[dict[str, object]]:
            out = await asyncio.to_thread(
                run, [str(BIN / "msgfy"), "conversations", "list", "--json"], env
            )
            listed = json.loads(out)
            return list(listed if isinstance(listed, list) else listed.get("conversations", []))

        found: list[dict[str, object]] = []
        for _ in range(150):
            found = await conversations()
            if found:
                break
            await asyncio.sleep(0.2)
        assert found, "the visitor's conversation never showed up"
        conversation_id = str(found[0]["name"]).rsplit("/", 1)[-1]
        await asyncio.to_thread(
            run,
            [str(BIN / "msgfy"), "send", "--conversation", conversation_id,
             "--text", "Hello from Linktor"],
            env,
        )  # fmt: skip
        for _ in range(20):
            frame = await visitor.next("message")
            if "Hello from Linktor" in json.dumps(frame):
                break
        else:
            raise AssertionError(f"the answer never reached the visitor: {visitor.frames}")
        await visitor.close()
