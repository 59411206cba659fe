"""Web chat capacity: visitor WebSockets held open on one `linktor serve`, and fan-out
latency while some of them chat.

One embedded `linktor serve` subprocess (SQLite, in-process bus), a tenant and a web chat
channel made through the CLI and the API. Visitor tokens are minted with the server's own
session key (session creation is rate-limited per address; this measures sockets, not
sign-ups). Then:

1. ``sockets`` visitors connect and say hello (``concurrency`` at a time); the server's RSS is
   read before and after, so RSS per socket = growth / sockets. Every socket must answer a
   ping after ``hold_s`` seconds.
2. ``chatters`` of them send a message every ``interval_s`` seconds for ``chat_s`` seconds
   (the rest stay open and idle). Measured: the visitor's message coming back on its own
   socket as a stored message (visitor -> outbox -> inbound worker -> event log -> fan-out
   -> the visitor's socket), and agent replies (SendMessage over gRPC -> delivery through
   the web chat adapter -> SENT -> fan-out -> the visitor's socket), p50/p99.

Settings (environment): WEBCHAT_BENCH_SOCKETS (5000), WEBCHAT_BENCH_CHATTERS (1000),
WEBCHAT_BENCH_INTERVAL_S (10), WEBCHAT_BENCH_CHAT_S (30), WEBCHAT_BENCH_AGENT_RPS (10).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import psutil
import websockets
from google.protobuf import struct_pb2

from linktor.server.webchat.domain.tokens import (
    VisitorSession,
    VisitorTokens,
    channel_key_hash,
    new_visitor_id,
)
from linktor.server.webchat.module import SESSION_KEY_FILE
from linktor.v1 import (
    channel_pb2,
    channel_pb2_grpc,
    common_pb2,
    content_pb2,
    message_pb2,
    message_pb2_grpc,
)

ORIGIN = "http://localhost"


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(f"WEBCHAT_BENCH_{name}", default))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": round(_percentile(values, 0.5) * 1000, 1),
        "p99_ms": round(_percentile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1) if values else float("nan"),
    }


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    http: str
    grpc_target: str
    data_dir: Path

    def rss_mb(self) -> float:
        return float(psutil.Process(self.process.pid).memory_info().rss) / 1e6

    def cpu_s(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)


def _start_server(data_dir: Path) -> Server:
    http_port, grpc_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKTOR_")}
    env.update(
        LINKTOR_DATA_DIR=str(data_dir),
        LINKTOR_HTTP_ADDR=f"127.0.0.1:{http_port}",
        LINKTOR_GRPC_ADDR=f"127.0.0.1:{grpc_port}",
        LINKTOR_LOG_LEVEL="warning",
    )
    log = (data_dir.parent / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "linktor.server.cli", "serve"], env=env, stdout=log, stderr=log
    )
    http = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{http}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        raise RuntimeError("linktor serve did not start")
    return Server(process, http, f"127.0.0.1:{grpc_port}", data_dir)


def _tenant(server: Server) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKTOR_")}
    env["LINKTOR_DATA_DIR"] = str(server.data_dir)
    made = subprocess.run(
        [sys.executable, "-m", "linktor.server.cli", "tenant", "create", "--name", "Bench",
         "--owner-email", "owner@bench.example"],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    created = json.loads(made.stdout)
    return str(created["tenant"]), str(created["api_key"]["secret"])


@dataclass
class Visitor:
    visitor_id: str
    ws: Any = None
    conversation: str = ""
    # client id -> send time; message name -> time the agent's SendMessage returned.
    pending: dict[str, float] = field(default_factory=dict)
    agent_pending: dict[str, float] = field(default_factory=dict)


@dataclass
class Results:
    echo: list[float] = field(default_factory=list)
    agent: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    frames: int = 0


async def _reader(visitor: Visitor, results: Results) -> None:
    try:
        async for raw in visitor.ws:
            results.frames += 1
            frame = json.loads(raw)
            if frame.get("type") == "message":
                now = time.monotonic()
                if frame.get("from") == "visitor" and frame.get("id") in visitor.pending:
                    results.echo.append(now - visitor.pending.pop(frame["id"]))
                    visitor.conversation = frame["message"].split("/messages/")[0]
                elif frame.get("from") == "agent" and frame["message"] in visitor.agent_pending:
                    results.agent.append(now - visitor.agent_pending.pop(frame["message"]))
            elif frame.get("type") == "error":
                results.errors.append(str(frame.get("code")))
    except websockets.ConnectionClosed:
        pass


async def _connect(url: str, token: str, visitor: Visitor) -> None:
    visitor.ws = await websockets.connect(url, origin=ORIGIN, open_timeout=60, ping_interval=None)  # type: ignore[arg-type]
    await visitor.ws.send(json.dumps({"type": "hello", "token": token, "after": 0}))
    ready = json.loads(await asyncio.wait_for(visitor.ws.recv(), 60))
    if ready.get("type") != "ready":
        raise RuntimeError(f"unexpected first frame {ready}")


async def _bench(server: Server, tenant: str, api_key: str) -> dict[str, Any]:
    sockets = int(_setting("SOCKETS", 5000))
    chatters = min(sockets, int(_setting("CHATTERS", 1000)))
    interval = _setting("INTERVAL_S", 10)
    chat_s = _setting("CHAT_S", 30)
    agent_rps = _setting("AGENT_RPS", 10)
    metadata = (("authorization", f"Bearer {api_key}"),)
    async with grpc.aio.insecure_channel(server.grpc_target) as channel:
        config = struct_pb2.Struct()
        config.update({"messages_per_minute": 600})
        created = await channel_pb2_grpc.ChannelServiceStub(channel).CreateChannel(
            channel_pb2.CreateChannelRequest(
                parent=tenant,
                channel=channel_pb2.Channel(
                    display_name="Bench chat", type=common_pb2.CHANNEL_TYPE_WEBCHAT, config=config
                ),
            ),
            metadata=metadata,
            timeout=60,
        )
        key = created.webhook_url.rsplit("/", 1)[-1]
        tokens = VisitorTokens((server.data_dir / SESSION_KEY_FILE).read_bytes().strip())
        url = f"{server.http.replace('http://', 'ws://')}/webchat/{key}/ws"
        expire = int(time.time()) + 86_400

        def token(visitor_id: str) -> str:
            return tokens.issue(VisitorSession(visitor_id, "", channel_key_hash(key), expire))

        # Warm up (adapter started, code paths loaded), then the baseline.
        warm = Visitor(new_visitor_id())
        await _connect(url, token(warm.visitor_id), warm)
        await warm.ws.close()
        await asyncio.sleep(2)
        rss_before, cpu_before = server.rss_mb(), server.cpu_s()

        visitors = [Visitor(new_visitor_id()) for _ in range(sockets)]
        results = Results()
        failures: list[str] = []
        gate = asyncio.Semaphore(100)

        async def open_one(visitor: Visitor) -> None:
            async with gate:
                try:
                    await _connect(url, token(visitor.visitor_id), visitor)
                except Exception as exc:
                    failures.append(type(exc).__name__)

        started = time.monotonic()
        await asyncio.gather(*(open_one(v) for v in visitors))
        connect_s = time.monotonic() - started
        opened = [v for v in visitors if v.ws is not None]
        readers = [asyncio.create_task(_reader(v, results)) for v in opened]
        hold_s = 10.0
        await asyncio.sleep(hold_s)
        rss_open = server.rss_mb()
        alive = 0
        for v in opened:
            try:
                await v.ws.send('{"type":"ping"}')
                alive += 1
            except websockets.ConnectionClosed:
                pass
        await asyncio.sleep(2)

        # Chat: `chatters` visitors each send every `interval` s; agents answer some.
        chatting = opened[:chatters]
        dropped: list[str] = []
        sent = 0
        stop_at = time.monotonic() + chat_s
        messages = message_pb2_grpc.MessageServiceStub(channel)

        async def chat(visitor: Visitor) -> None:
            nonlocal sent
            await asyncio.sleep(random.uniform(0, interval))
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                client_id = f"m{n}"
                visitor.pending[client_id] = time.monotonic()
                try:
                    await visitor.ws.send(
                        json.dumps({"type": "message", "id": client_id, "text": f"hello {n}"})
                    )
                except websockets.ConnectionClosed:
                    visitor.pending.pop(client_id, None)
                    dropped.append(visitor.visitor_id)
                    return
                sent += 1
                await asyncio.sleep(interval)

        agent_sent = 0

        async def agent() -> None:
            nonlocal agent_sent
            while time.monotonic() < stop_at:
                ready = [v for v in chatting if v.conversation]
                if ready:
                    visitor = random.choice(ready)
                    try:
                        reply = await messages.SendMessage(
                            message_pb2.SendMessageRequest(
                                conversation=visitor.conversation,
                                content=content_pb2.MessageContent(
                                    text=content_pb2.TextContent(body="an agent's answer")
                                ),
                            ),
                            metadata=metadata,
                            timeout=30,
                        )
                    except grpc.aio.AioRpcError as exc:
                        results.errors.append(f"SendMessage {exc.code().name}")
                        await asyncio.sleep(1)
                        continue
                    visitor.agent_pending[reply.name] = time.monotonic()
                    agent_sent += 1
                await asyncio.sleep(1 / agent_rps)

        cpu_chat = server.cpu_s()
        me = psutil.Process()
        client_cpu = sum(me.cpu_times()[:2])
        chat_started = time.monotonic()
        await asyncio.gather(*(chat(v) for v in chatting), agent())
        await asyncio.sleep(10)  # stragglers
        chat_wall = time.monotonic() - chat_started
        cpu_after = server.cpu_s()
        client_share = (sum(me.cpu_times()[:2]) - client_cpu) / chat_wall
        lost_echo = sum(len(v.pending) for v in chatting)
        lost_agent = sum(len(v.agent_pending) for v in chatting)
        for task in readers:
            task.cancel()
        await asyncio.gather(*(v.ws.close() for v in opened), return_exceptions=True)

    return {
        "benchmark": "webchat",
        "settings": {
            "sockets": sockets,
            "chatters": chatters,
            "interval_s": interval,
            "chat_s": chat_s,
            "agent_rps": agent_rps,
            "hold_s": hold_s,
        },
        "metrics": {
            "sockets_open": len(opened),
            "sockets_failed": len(failures),
            "sockets_alive_after_hold": alive,
            "connect_s": round(connect_s, 1),
            "connects_per_s": round(len(opened) / connect_s, 1),
            "server_rss_before_mb": round(rss_before, 1),
            "server_rss_open_mb": round(rss_open, 1),
            "server_rss_per_socket_kb": round(
                (rss_open - rss_before) * 1000 / max(1, len(opened)), 1
            ),
            "server_cpu_connect_s": round(cpu_chat - cpu_before, 1),
            "visitor_messages_sent": sent,
            "visitor_messages_per_s": round(sent / chat_s, 1),
            "visitor_echo": _ms(results.echo),
            "visitor_echo_missing": lost_echo,
            "agent_replies_sent": agent_sent,
            "agent_reply": _ms(results.agent),
            "agent_reply_missing": lost_agent,
            "server_cpu_chat_share": round((cpu_after - cpu_chat) / chat_wall, 2),
            "bench_client_cpu_chat_share": round(client_share, 2),
            "sockets_dropped_while_chatting": len(dropped),
            "errors": len(results.errors),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "goals": {"sockets_open": ">= 5000 on 2 cores", "fan_out": "p99 while 1,000 chat"},
    }


def main() -> dict[str, Any]:
    fd_limit = _raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="linktor-bench-webchat-") as tmp:
        server = _start_server(Path(tmp) / "data")
        try:
            tenant, api_key = _tenant(server)
            result = asyncio.run(_bench(server, tenant, api_key))
        finally:
            server.process.terminate()
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.process.kill()
    result["settings"]["fd_limit"] = fd_limit
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
