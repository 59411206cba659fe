"""The msgfy commands (Typer). Exit codes are documented in docs/cli.md and EXIT_CODES."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.progress import Progress

from linktor.msgfy import bulk, output, profiles
from linktor.msgfy.output import label, short
from linktor.sdk import Linktor, accounts, content, errors

#: Exit codes, by the exception that ends the command.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (profiles.NotLoggedIn, 3),
    (errors.Unauthenticated, 3),
    (errors.PermissionDenied, 3),
    (errors.NotFound, 4),
    (errors.InvalidArgument, 5),
    (errors.FailedPrecondition, 5),
    (errors.AlreadyExists, 5),
    (errors.Aborted, 5),
    (ValueError, 5),
    (errors.Unavailable, 6),
    (errors.DeadlineExceeded, 6),
    (errors.RateLimited, 6),
    (errors.LinktorError, 1),
)
EXIT_PARTIAL = 7  # a bulk send where some rows failed

app = typer.Typer(
    help="msgfy: send and follow messages on Linktor from your terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
channels_app = typer.Typer(help="Channels: list, show, add, remove.", no_args_is_help=True)
contacts_app = typer.Typer(help="Contacts: list, add, update, remove.", no_args_is_help=True)
conversations_app = typer.Typer(
    help="Conversations: list, show, assign, resolve.", no_args_is_help=True
)
messages_app = typer.Typer(help="Messages: tail the live stream.", no_args_is_help=True)
app.add_typer(channels_app, name="channels")
app.add_typer(contacts_app, name="contacts")
app.add_typer(conversations_app, name="conversations")
app.add_typer(messages_app, name="messages")


class State:
    profile: str | None = None
    as_json = False
    debug = False
    timeout = 30.0
    _client: Linktor | None = None

    @property
    def client(self) -> Linktor:
        if self._client is None:
            self._client = profiles.client_for(profiles.profile_name(self.profile), self.timeout)
        return self._client


state = State()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@app.callback()
def main_options(
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Profile to use (MSGFY_PROFILE).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds for each call.")] = 30.0,
) -> None:
    state.profile, state.as_json, state.debug, state.timeout = profile, as_json, debug, timeout


def json_wanted(local: bool) -> bool:
    return local or state.as_json


# ---------------------------------------------------------------- login


@app.command()
def login(
    address: Annotated[str, typer.Option(help="The gRPC address of Linktor.")] = "127.0.0.1:9090",
    api_key: Annotated[str | None, typer.Option(help="An API key (lk_...).")] = None,
    email: Annotated[str | None, typer.Option(help="Log in as a user instead.")] = None,
    password: Annotated[
        str | None, typer.Option(help="The password (prompted when missing).")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="The tenant, for operator keys.")] = None,
) -> None:
    """Check credentials and save them as a profile (`--profile`, default "default")."""
    name = profiles.profile_name(state.profile)
    if api_key is None and email is None:
        api_key = typer.prompt("API key", hide_input=True)
    saved = profiles.Profile(address=address, email=email or "", tenant=tenant or "")
    if email is not None:
        secret = password or typer.prompt("Password", hide_input=True)

        def keep(tokens: Any) -> None:
            saved.refresh_token = tokens.refresh_token

        client = Linktor(email=email, password=secret, address=address, on_tokens=keep)
    else:
        saved.api_key = api_key or ""
        client = Linktor(api_key=saved.api_key, address=address, tenant=tenant)
    with client:
        principal = client.auth.get_principal()
    profiles.save_profile(name, saved)
    who = principal.email or short(principal.api_key) or "operator"
    if state.as_json:
        output.emit_json({"profile": name, "tenant": principal.tenant, "principal": who})
    else:
        output.stdout.print(f"Logged in to {principal.tenant} as {who} (profile {name!r}).")


@app.command("set-password")
def set_password(
    token: Annotated[
        str | None,
        typer.Option(help="The one-time setup token (lkps_...) an admin gave you (prompted)."),
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="The new password, 12+ characters (prompted).")
    ] = None,
    address: Annotated[str, typer.Option(help="The gRPC address of Linktor.")] = "127.0.0.1:9090",
) -> None:
    """Set your password with a setup token (an invitation or a reset), then `msgfy login`."""
    secret_token = token or typer.prompt("Setup token", hide_input=True)
    secret = password or typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    user = accounts.set_password(secret_token, secret, address=address, timeout=state.timeout)
    if state.as_json:
        output.emit_json({"user": user.name, "email": user.email})
    else:
        output.stdout.print(
            f"Password set for {user.email} ({user.name}). Log in with:"
            f" msgfy login --address {address} --email {user.email}"
        )


# ---------------------------------------------------------------- channels


@channels_app.command("list")
def channels_list(as_json: JsonOption = False) -> None:
    """List the tenant's channels."""
    output.table(
        state.client.channels.list(),
        [
            ("ID", lambda c: short(c.name)),
            ("NAME", lambda c: c.display_name),
            ("TYPE", lambda c: label(c, "type")),
            ("STATE", lambda c: label(c, "state")),
        ],
        json_wanted(as_json),
    )


@channels_app.command("show")
def channels_show(channel: str, as_json: JsonOption = False) -> None:
    """Show one channel (id or name)."""
    output.details(state.client.channels.get(channel), json_wanted(as_json))


@channels_app.command("add")
def channels_add(
    type_: Annotated[str, typer.Option("--type", help="sms, whatsapp, webchat ...")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    config: Annotated[list[str] | None, typer.Option(help="KEY=VALUE (repeat).")] = None,
    secret: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, write-only.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a channel; the adapter validates its configuration first."""
    made = state.client.channels.create(
        channel={
            "display_name": name,
            "type": type_,
            "config": pairs(config),
            "secrets": pairs(secret),
        }
    )
    if json_wanted(as_json):
        output.emit_json(made)
    else:
        output.stdout.print(f"Created channel {short(made.name)} ({label(made, 'state')}).")
        if made.webhook_url:
            output.stdout.print(f"Provider webhook URL: {made.webhook_url}")


@channels_app.command("remove")
def channels_remove(channel: str) -> None:
    """Delete a channel (its conversations stay readable)."""
    state.client.channels.delete(channel)
    output.stderr.print(f"Removed channel {short(channel)}.")


def pairs(values: list[str] | None) -> dict[str, str]:
    found = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=VALUE, got {item!r}")
        found[key] = value
    return found


# ---------------------------------------------------------------- send


@app.command()
def send(
    channel: Annotated[str | None, typer.Option(help="Channel id (with --to).")] = None,
    to: Annotated[str | None, typer.Option(help="Recipient address (+E.164 ...).")] = None,
    conversation: Annotated[str | None, typer.Option(help="Send into a conversation.")] = None,
    text: Annotated[str | None, typer.Option(help="Text to send.")] = None,
    media: Annotated[str | None, typer.Option(help="Public URL of a media file.")] = None,
    media_type: Annotated[str, typer.Option(help="image, video, audio, document ...")] = "image",
    template: Annotated[str | None, typer.Option(help="Template name.")] = None,
    language: Annotated[str, typer.Option(help="Template language.")] = "en",
    param: Annotated[list[str] | None, typer.Option(help="Template body parameter.")] = None,
    content_file: Annotated[
        Path | None,
        typer.Option("--content", help="JSON file: any MessageContent (interactive ...)."),
    ] = None,
    request_id: Annotated[str | None, typer.Option(help="Idempotency key.")] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Bulk: one message per row (columns: to, text…).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send one message, or one per row of a CSV file (safe to re-run)."""
    if csv_file is not None:
        send_csv(csv_file, channel or "", json_wanted(as_json))
        return
    if content_file is not None:
        body = content.from_dict(json.loads(content_file.read_text()))
    elif template is not None:
        body = content.template(template, language, body=param or [])
    elif media is not None:
        body = content.media(media, type=media_type, caption=text or "")
    elif text is not None:
        body = content.text(text)
    else:
        raise ValueError("nothing to send: give --text, --media, --template or --content")
    sent = state.client.messages.send(
        channel=channel, to=to, conversation=conversation, content=body, request_id=request_id
    )
    if json_wanted(as_json):
        output.emit_json(sent)
    else:
        output.stdout.print(f"Accepted {sent.name} (request_id {sent.request_id}).")


def send_csv(path: Path, channel: str, as_json: bool) -> None:
    rows = bulk.read_rows(path)
    with Progress(console=output.stderr, transient=as_json) as progress:
        task = progress.add_task(f"Sending {path.name}", total=len(rows))
        summary = bulk.send_rows(state.client, path, rows, channel, lambda: progress.advance(task))
    if as_json:
        output.emit_json(
            {
                "sent": summary.sent,
                "already_sent": summary.already_sent,
                "failed": [{"row": n, "error": e} for n, e in summary.failed],
            }
        )
    else:
        output.stdout.print(
            f"{summary.total} rows: {summary.sent} sent, {summary.already_sent} already sent "
            f"earlier, {len(summary.failed)} failed."
        )
        for number, error in summary.failed:
            output.stderr.print(f"  row {number}: {error}", highlight=False)
    if summary.failed:
        raise typer.Exit(EXIT_PARTIAL)


# ---------------------------------------------------------------- messages


@messages_app.command("tail")
def messages_tail(
    conversation: Annotated[str | None, typer.Option(help="Only this conversation.")] = None,
    after: Annotated[int, typer.Option(help="Start after this event sequence.")] = 0,
    types: Annotated[str, typer.Option(help="Event types, comma-separated.")] = "message.*",
    limit: Annotated[int, typer.Option(help="Stop after this many events (0: never).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Follow events live (reconnects and resumes on its own); Ctrl-C to stop."""
    stream = state.client.events.stream(
        after_sequence=after,
        conversation=conversation,
        types=[t.strip() for t in types.split(",") if t.strip()],
    )
    seen = 0
    with stream:
        for event in stream:
            if json_wanted(as_json):
                print(json.dumps(output.as_dict(event), ensure_ascii=False), flush=True)
            else:
                output.stdout.print(describe(event), highlight=False)
            seen += 1
            if limit and seen >= limit:
                return


def describe(event: Any) -> str:
    which = event.WhichOneof("payload")
    if which == "message":
        m = event.message
        arrow = "<-" if m.direction == 1 else "->"
        body = m.content.text.body or (m.content.WhichOneof("kind") or "")
        return f"{event.sequence:>6} {event.type:<16} {arrow} {label(m, 'status'):<9} {body}"
    return f"{event.sequence:>6} {event.type:<16} {getattr(event, which).name if which else ''}"


# ---------------------------------------------------------------- contacts


@contacts_app.command("list")
def contacts_list(
    query: Annotated[str | None, typer.Option(help="Search name, phone, email.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only with this tag.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List contacts."""
    output.table(
        state.client.contacts.list(query=query, tags=tag),
        [
            ("ID", lambda c: short(c.name)),
            ("NAME", lambda c: c.display_name),
            ("PHONE", lambda c: c.phone_number),
            ("EMAIL", lambda c: c.email),
            ("TAGS", lambda c: ",".join(c.tags)),
        ],
        json_wanted(as_json),
    )


@contacts_app.command("add")
def contacts_add(
    name: Annotated[str, typer.Option(help="Display name.")],
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    email: Annotated[str | None, typer.Option(help="Email.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Tag (repeat).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a contact."""
    fields: dict[str, Any] = {"display_name": name, "phone_number": phone, "email": email}
    made = state.client.contacts.create(
        contact={**{k: v for k, v in fields.items() if v}, "tags": tag or []}
    )
    emit_created(made, "contact", as_json)


@contacts_app.command("update")
def contacts_update(
    contact: str,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    email: Annotated[str | None, typer.Option(help="Email.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Replace the tags.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change the fields given, and only those."""
    changes: dict[str, Any] = {"display_name": name, "phone_number": phone, "email": email}
    changes = {k: v for k, v in changes.items() if v is not None}
    if tag is not None:
        changes["tags"] = tag
    if not changes:
        raise ValueError("nothing to update: give --name, --phone, --email or --tag")
    updated = state.client.contacts.update(contact={"name": contact, **changes})
    emit_created(updated, "contact", as_json, verb="Updated")


@contacts_app.command("remove")
def contacts_remove(contact: str) -> None:
    """Delete a contact (with its conversations and messages)."""
    state.client.contacts.delete(contact)
    output.stderr.print(f"Removed contact {short(contact)}.")


def emit_created(item: Any, kind: str, as_json: bool, verb: str = "Created") -> None:
    if json_wanted(as_json):
        output.emit_json(item)
    else:
        output.stdout.print(f"{verb} {kind} {short(item.name)}.")


# ---------------------------------------------------------------- conversations


@conversations_app.command("list")
def conversations_list(
    status: Annotated[list[str] | None, typer.Option(help="open, pending, resolved ...")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    unassigned: Annotated[bool, typer.Option(help="Only unassigned ones.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List conversations, most recent activity first."""
    output.table(
        state.client.conversations.list(
            statuses=status, channel=channel, unassigned=unassigned or None
        ),
        [
            ("ID", lambda c: short(c.name)),
            ("CONTACT", lambda c: c.contact_display_name or short(c.contact)),
            ("STATUS", lambda c: label(c, "status")),
            ("ASSIGNEE", lambda c: short(c.assignee) if c.assignee else ""),
            ("LAST MESSAGE", lambda c: c.last_message_preview[:50]),
        ],
        json_wanted(as_json),
    )


@conversations_app.command("show")
def conversations_show(
    conversation: str,
    messages: Annotated[int, typer.Option(help="Also show the last N messages.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Show a conversation and its latest messages."""
    found = state.client.conversations.get(conversation)
    latest = state.client.messages.list(found.name, page_size=messages).to_list(limit=messages)
    if json_wanted(as_json):
        output.emit_json(
            {"conversation": output.as_dict(found), "messages": [output.as_dict(m) for m in latest]}
        )
        return
    output.details(found, False)
    for m in reversed(latest):
        arrow = "<-" if m.direction == 1 else "->"
        body = m.content.text.body or m.content.WhichOneof("kind")
        output.stdout.print(f"  {arrow} {label(m, 'status'):<9} {body}", highlight=False)


@conversations_app.command("assign")
def conversations_assign(
    conversation: str,
    user: Annotated[str, typer.Argument(help="User id or name; empty string unassigns.")],
    as_json: JsonOption = False,
) -> None:
    """Assign a conversation to a user."""
    done = state.client.conversations.assign(conversation, assignee=user)
    emit_created(done, "conversation", as_json, verb="Assigned")


@conversations_app.command("resolve")
def conversations_resolve(conversation: str, as_json: JsonOption = False) -> None:
    """Mark a conversation resolved."""
    done = state.client.conversations.resolve(conversation)
    emit_created(done, "conversation", as_json, verb="Resolved")


# ---------------------------------------------------------------- entry point


def exit_code(error: BaseException) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1


def main() -> None:
    """The console script: errors are one line (and an exit code), never a traceback
    unless --debug."""
    try:
        # standalone_mode=False: click returns the code of typer.Exit instead of raising it.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except (typer.Exit, SystemExit) as done:
        code = getattr(done, "exit_code", getattr(done, "code", 0))
        sys.exit(code if isinstance(code, int) else 1)
    except typer.Abort:
        output.fail("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if state.debug:
            raise
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        output.fail(str(exc) or type(exc).__name__)
        sys.exit(exit_code(exc))
    finally:
        if state._client is not None:
            state._client.close()
