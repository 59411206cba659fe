"""The benchmark's gRPC backend: linktor.v1.ContactService/GetContact answering a fixed,
realistic Contact, so that both sides of the comparison call exactly the same method.

    python -m bench.gateway.backend --port 50051
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from linktor.v1 import contact_pb2

SERVICE = "linktor.v1.ContactService"


def contact(name: str) -> contact_pb2.Contact:
    now = timestamp_pb2.Timestamp(seconds=1_760_000_000, nanos=123_000_000)
    return contact_pb2.Contact(
        name=name,
        display_name="Ada Lovelace",
        email="ada@example.com",
        phone_number="+15551234567",
        locale="en-GB",
        tags=["vip", "beta"],
        attributes={"plan": "enterprise", "region": "eu"},
        create_time=now,
        update_time=now,
        etag='W/"42"',
    )


async def get_contact(request: contact_pb2.GetContactRequest, _: object) -> contact_pb2.Contact:
    return contact(request.name)


def handlers() -> list[grpc.GenericRpcHandler[Any, Any]]:
    handler = grpc.unary_unary_rpc_method_handler(
        get_contact,
        request_deserializer=contact_pb2.GetContactRequest.FromString,
        response_serializer=contact_pb2.Contact.SerializeToString,
    )
    return [grpc.method_handlers_generic_handler(SERVICE, {"GetContact": handler})]


async def serve(port: int) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(handlers())
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
