"""An in-process platform with a tenant and a web chat channel, for tests reaching inside
(the use cases, the database) while visitors talk to it over real sockets."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert

from linktor.server.bootstrap import Container
from linktor.server.channels.adapters.tables import channels
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.send import SendCommand
from linktor.server.messaging.domain.message import Message
from linktor.server.runtime import Platform
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.ids import new_id
from linktor.server.shared.principal import Principal, Role
from linktor.v1 import content_pb2
from lktest.seed import SEED_TIME
from lktest.webchat import Visitor


@dataclass
class WebchatSite:
    """A running platform (in this process) with a tenant and a web chat channel."""

    platform: Platform
    tenant_id: str
    channel_id: str
    key: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.platform.http_port}"

    @property
    def container(self) -> Container:
        assert self.platform.container is not None
        return self.platform.container

    def visitor(self, origin: str = "http://localhost", name: str = "") -> Visitor:
        return Visitor.start(self.base, self.key, origin=origin, name=name)

    async def add_channel(
        self, tenant_id: str | None = None, origins: tuple[str, ...] = (), **config: object
    ) -> tuple[str, str]:
        """A web chat channel (id, key) of ``tenant_id`` (default: this site's tenant)."""
        tenant = tenant_id or self.tenant_id
        channel_id, key = new_id(), new_id()
        engine = self.container.engine
        async with SqlUnitOfWork(engine, tenant_id=tenant) as uow:
            await uow.connection.execute(
                insert(channels).values(
                    id=channel_id, tenant_id=tenant, type="WEBCHAT", display_name="Web chat",
                    state="ACTIVE", config=config, secret_keys=[], webhook_token=key,
                    allowed_origins=list(origins), create_time=SEED_TIME, update_time=SEED_TIME,
                )
            )  # fmt: skip
            await uow.commit()
        return channel_id, key

    async def agent_says(self, conversation: str, body: str) -> str:
        """SendMessage as an agent of the tenant; the message's name."""
        tenant = conversation.split("/")[1]
        message = await self.container.messaging.send(
            Principal(tenant_id=tenant, user_id="agent-1", role=Role.AGENT),
            SendCommand(
                tenant_id=tenant,
                conversation_id=conversation.rsplit("/", 1)[-1],
                content=content_pb2.MessageContent(text=content_pb2.TextContent(body=body)),
            ),
        )
        return message.name

    async def message(self, name: str) -> Message | None:
        tenant = name.split("/")[1]
        async with SqlMessagingUnitOfWork(
            self.container.engine, SystemClock(), tenant_id=tenant
        ) as uow:
            return await uow.messages.get(tenant, name.rsplit("/", 1)[-1])
