"""msgfy as users run it (a subprocess) against the live server: profiles, channels,
contacts, conversations, send, bulk CSV re-runs, tail, JSON output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sdktest import LiveServer, TenantLogin

from linktor.sdk import Linktor, accounts, errors

pytestmark = pytest.mark.e2e

Msgfy = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def msgfy(tmp_path: Path) -> Msgfy:
    config = tmp_path / "msgfy" / "config.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKTOR_", "MSGFY_"))}
    env["MSGFY_CONFIG"] = str(config)
    env["COLUMNS"] = "200"

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "linktor.msgfy", *args],
            env=env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    return run


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_profiles_channels_and_errors(
    msgfy: Msgfy, live: LiveServer, tenant: TenantLogin, sms_channel: str, tmp_path: Path
) -> None:
    not_yet = msgfy("channels", "list")
    assert not_yet.returncode == 3
    assert "msgfy login" in not_yet.stderr
    assert "Traceback" not in not_yet.stderr
    ok(msgfy("login", "--address", live.address, "--api-key", tenant.api_key))
    saved = json.loads((tmp_path / "msgfy" / "config.json").read_text())
    assert saved["profiles"]["default"]["api_key"] == tenant.api_key
    assert oct((tmp_path / "msgfy" / "config.json").stat().st_mode)[-3:] == "600"
    listed = json.loads(ok(msgfy("--json", "channels", "list")))
    assert sms_channel in [c["name"].rsplit("/", 1)[1] for c in listed]
    assert sms_channel in ok(msgfy("channels", "list"))
    shown = json.loads(ok(msgfy("channels", "show", sms_channel, "--json")))
    assert shown["type"] == "CHANNEL_TYPE_SMS"
    missing = msgfy("channels", "show", "01m8aetyqvsn0a1d6r03fe4780")
    assert missing.returncode == 4
    assert missing.stderr.count("\n") == 1, missing.stderr  # one line, no traceback
    bad = msgfy("channels", "add", "--type", "pigeon", "--name", "x")
    assert bad.returncode == 5
    assert "unknown ChannelType" in bad.stderr


def test_password_profile_contacts_and_conversations(
    msgfy: Msgfy, live: LiveServer, tenant: TenantLogin, sms_channel: str, tmp_path: Path
) -> None:
    ok(
        msgfy(
            "--profile", "ana", "login", "--address", live.address,
            "--email", tenant.email, "--password", tenant.password,
        )
    )  # fmt: skip
    profile = json.loads((tmp_path / "msgfy" / "config.json").read_text())["profiles"]["ana"]
    assert profile["refresh_token"].startswith("lkr_")
    assert "password" not in profile
    made = json.loads(
        ok(msgfy("-p", "ana", "contacts", "add", "--name", "Bia", "--tag", "cli", "--json"))
    )
    contact = made["name"].rsplit("/", 1)[1]
    updated = json.loads(
        ok(msgfy("-p", "ana", "contacts", "update", contact, "--email", "bia@x.example", "--json"))
    )
    assert (updated["display_name"], updated["email"], updated["tags"]) == (
        "Bia",
        "bia@x.example",
        ["cli"],
    )
    assert "Bia" in ok(msgfy("-p", "ana", "contacts", "list", "--tag", "cli"))
    ok(msgfy("-p", "ana", "contacts", "remove", contact))
    # The session's refresh token rotated and the profile kept the new one.
    assert json.loads((tmp_path / "msgfy" / "config.json").read_text())["profiles"]["ana"][
        "refresh_token"
    ]

    sent = json.loads(
        ok(
            msgfy(
                "-p",
                "ana",
                "send",
                "--channel",
                sms_channel,
                "--to",
                "+15550500",
                "--text",
                "from the CLI",
                "--json",
            )
        )
    )
    conversation = sent["name"].split("/")[3]
    assert conversation in ok(msgfy("-p", "ana", "conversations", "list"))
    shown = json.loads(ok(msgfy("-p", "ana", "conversations", "show", conversation, "--json")))
    assert shown["messages"][0]["content"]["text"]["body"] == "from the CLI"
    with Linktor(api_key=tenant.api_key, address=live.address) as client:
        owner = client.users.list().to_list(limit=1)[0].name
    assigned = json.loads(
        ok(msgfy("-p", "ana", "conversations", "assign", conversation, owner, "--json"))
    )
    assert assigned["assignee"] == owner
    resolved = json.loads(
        ok(msgfy("-p", "ana", "conversations", "resolve", conversation, "--json"))
    )
    assert resolved["status"] == "CONVERSATION_STATUS_RESOLVED"


def test_bulk_csv_is_idempotent_per_row_across_runs(
    msgfy: Msgfy, live: LiveServer, tenant: TenantLogin, sms_channel: str, tmp_path: Path
) -> None:
    ok(msgfy("login", "--address", live.address, "--api-key", tenant.api_key))
    rows = tmp_path / "campaign.csv"
    rows.write_text(
        "to,text,name\n+15550601,Hello Ana,Ana\n+15550602,Hello Bo,Bo\n+15550603,,Empty\n"
    )
    first = msgfy("send", "--csv", str(rows), "--channel", sms_channel, "--json")
    assert first.returncode == 7, first.stderr  # one row failed
    summary = json.loads(first.stdout)
    assert (summary["sent"], summary["already_sent"]) == (2, 0)
    assert summary["failed"][0]["row"] == 3
    assert "content.text.body" in summary["failed"][0]["error"]
    # Re-run after fixing the bad row: the two sent rows are not sent again.
    rows.write_text(
        "to,text,name\n+15550601,Hello Ana,Ana\n+15550602,Hello Bo,Bo\n+15550603,Hi Cy,Cy\n"
    )
    second = msgfy("send", "--csv", str(rows), "--channel", sms_channel)
    assert second.returncode == 0, second.stderr
    assert "3 rows: 1 sent, 2 already sent earlier, 0 failed." in second.stdout
    with Linktor(api_key=tenant.api_key, address=live.address) as client:
        bodies = [
            m.content.text.body
            for c in client.conversations.list()
            for m in client.messages.list(c.name)
        ]
    assert sorted(b for b in bodies if b.startswith(("Hello", "Hi Cy"))) == [
        "Hello Ana", "Hello Bo", "Hi Cy",
    ]  # fmt: skip


def test_tail_prints_events_as_json_lines(
    msgfy: Msgfy, live: LiveServer, tenant: TenantLogin, sms_channel: str
) -> None:
    ok(msgfy("login", "--address", live.address, "--api-key", tenant.api_key))
    with Linktor(api_key=tenant.api_key, address=live.address) as client:
        latest = client.events.list().to_list()[-1].sequence
        sent = client.messages.send(channel=sms_channel, to="+15550700", text="tail me")
    conversation = sent.name.split("/")[3]  # older tests' late events are filtered out
    tail = msgfy(
        "messages", "tail", "--after", str(latest), "--types", "message.created",
        "--conversation", conversation, "--limit", "1", "--json",
    )  # fmt: skip
    event = json.loads(ok(tail).splitlines()[0])
    assert event["type"] == "message.created"
    assert event["message"]["content"]["text"]["body"] == "tail me"
    human = msgfy(
        "messages", "tail", "--after", str(latest), "--conversation", conversation, "--limit", "1"
    )  # fmt: skip
    assert "tail me" in ok(human)


def test_an_invited_user_sets_a_password_then_logs_in(
    msgfy: Msgfy, live: LiveServer, tenant: TenantLogin
) -> None:
    email = f"agent-{os.urandom(4).hex()}@acme.example"
    with Linktor(api_key=tenant.api_key, address=live.address) as admin:
        invited = admin.users.create(user={"email": email, "role": "ROLE_AGENT"})
        setup = admin.users.issue_password_setup(invited.name)
    assert setup.token.startswith("lkps_")
    # The SDK, without credentials: a wrong token is a typed error and changes nothing.
    with pytest.raises(errors.Unauthenticated):
        accounts.set_password("lkps_not-a-token", "a long new password", address=live.address)

    answer = json.loads(
        ok(
            msgfy(
                "--json", "set-password", "--address", live.address,
                "--token", setup.token, "--password", "a long new password",
            )
        )
    )  # fmt: skip
    assert answer == {"user": invited.name, "email": email}
    ok(
        msgfy(
            "--profile", "agent", "login", "--address", live.address,
            "--email", email, "--password", "a long new password",
        )
    )  # fmt: skip
    # The token worked once: a second use is refused in one line, exit code 3.
    again = msgfy(
        "set-password", "--address", live.address,
        "--token", setup.token, "--password", "another long password",
    )  # fmt: skip
    assert again.returncode == 3, again.stderr
    assert "used" in again.stderr
    assert "Traceback" not in again.stderr
