"""Attachment use cases: store a file (inline bytes, a stream, or media received from a
contact), read its metadata with a short-lived download URL, open it for download."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from linktor.server.infra.media.port import MediaStore, MediaTooLarge, StoredBlob
from linktor.server.media.app.ports import AttachmentRepository
from linktor.server.media.domain.attachment import (
    MAX_INLINE_BYTES,
    Attachment,
    MediaPolicy,
    check_size,
    clean_filename,
    storage_key,
)
from linktor.server.media.domain.signing import DownloadSigner
from linktor.server.media.domain.sniff import SNIFF_BYTES, content_matches
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import InvalidArgument, NotFound
from linktor.server.shared.ids import new_id
from linktor.server.shared.principal import Principal


@dataclass(frozen=True)
class AttachmentView:
    """An attachment with a download URL (absolute) valid until ``download_expire_time``."""

    attachment: Attachment
    download_url: str
    download_expire_time: datetime


class _Sniffed:
    """Passes chunks through, checking the first bytes against the declared type."""

    def __init__(self, chunks: AsyncIterable[bytes], mime_type: str) -> None:
        self._chunks = chunks
        self._mime = mime_type

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = b""
        checked = False
        async for chunk in self._chunks:
            if not checked:
                head += chunk[:SNIFF_BYTES]
                if len(head) >= SNIFF_BYTES:
                    self._check(head)
                    checked = True
            if chunk:
                yield chunk
        if not checked and head:
            self._check(head)

    def _check(self, head: bytes) -> None:
        if not content_matches(self._mime, head):
            raise InvalidArgument.for_field("data", f"the content is not {self._mime}")


class Attachments:
    def __init__(
        self,
        repository: AttachmentRepository,
        store: MediaStore,
        signer: DownloadSigner,
        clock: Clock,
        *,
        public_url: str,
        policy: MediaPolicy | None = None,
    ) -> None:
        self._repository = repository
        self._store = store
        self._signer = signer
        self._clock = clock
        self._public_url = public_url.rstrip("/")
        self.policy = policy or MediaPolicy()

    async def create(
        self, principal: Principal, tenant_id: str, filename: str, mime_type: str, data: bytes
    ) -> AttachmentView:
        """CreateAttachment: bytes inline, at most 16 MiB."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        mime, limit = self.policy.check_type(mime_type)
        check_size(len(data), min(limit, MAX_INLINE_BYTES), mime)
        if not content_matches(mime, data[:SNIFF_BYTES]):
            raise InvalidArgument.for_field("data", f"the content is not {mime}")
        attachment_id = new_id()
        key = storage_key(tenant_id, attachment_id)
        blob = await self._store.put(key, data)
        return self.view(await self._add(tenant_id, attachment_id, filename, mime, key, blob))

    async def create_streamed(
        self,
        principal: Principal,
        tenant_id: str,
        filename: str,
        mime_type: str,
        chunks: AsyncIterable[bytes],
    ) -> AttachmentView:
        """The HTTP upload route: the body streamed to storage, never held whole."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        mime, limit = self.policy.check_type(mime_type)
        attachment = await self.store_stream(tenant_id, filename, mime, chunks, limit=limit)
        return self.view(attachment)

    async def store_stream(
        self,
        tenant_id: str,
        filename: str,
        mime_type: str,
        chunks: AsyncIterable[bytes],
        *,
        limit: int | None = None,
        sniff: bool = True,
    ) -> Attachment:
        """Store a stream as a new attachment of ``tenant_id`` (also media received from a
        contact, whose type the provider declared: ``sniff=False`` keeps what it said)."""
        attachment_id = new_id()
        key = storage_key(tenant_id, attachment_id)
        maximum = limit if limit is not None else self.policy.max_bytes
        source = _Sniffed(chunks, mime_type) if sniff else chunks
        try:
            blob = await self._store.put_stream(key, source, max_bytes=maximum)
        except MediaTooLarge:
            raise InvalidArgument.for_field(
                "data", f"over the limit of {maximum} bytes for {mime_type}"
            ) from None
        try:
            check_size(blob.size_bytes, maximum, mime_type)
        except InvalidArgument:
            await self._store.delete(key)
            raise
        return await self._add(tenant_id, attachment_id, filename, mime_type, key, blob)

    async def _add(
        self,
        tenant_id: str,
        attachment_id: str,
        filename: str,
        mime: str,
        key: str,
        blob: StoredBlob,
    ) -> Attachment:
        attachment = Attachment(
            id=attachment_id,
            tenant_id=tenant_id,
            filename=clean_filename(filename),
            mime_type=mime,
            size_bytes=blob.size_bytes,
            sha256=blob.sha256,
            storage_key=key,
            create_time=self._clock.now(),
        )
        try:
            await self._repository.add(attachment)
        except BaseException:
            await self._store.delete(key)
            raise
        return attachment

    async def get(self, principal: Principal, tenant_id: str, attachment_id: str) -> AttachmentView:
        name = f"tenants/{tenant_id}/attachments/{attachment_id}"
        tenant_id = principal.own_tenant(tenant_id, name)
        return self.view(await self.find(tenant_id, attachment_id))

    async def find(self, tenant_id: str, attachment_id: str) -> Attachment:
        """The attachment of ``tenant_id``; NotFound otherwise."""
        found = await self._repository.get(tenant_id, attachment_id)
        if found is None:
            raise NotFound(f"tenants/{tenant_id}/attachments/{attachment_id} not found")
        return found

    async def lookup(self, tenant_id: str, attachment_id: str) -> Attachment | None:
        return await self._repository.get(tenant_id, attachment_id)

    def view(self, attachment: Attachment) -> AttachmentView:
        signed = self._signer.sign(attachment.tenant_id, attachment.id, self._clock.now())
        return AttachmentView(
            attachment, self._public_url + signed.path_and_query, signed.expire_time
        )

    async def open_download(
        self, tenant_id: str, attachment_id: str, expires: str, signature: str
    ) -> tuple[Attachment, AsyncIterator[bytes]] | None:
        """The attachment and its bytes for a signed URL; None when the URL is not valid
        (altered, expired) or names nothing: callers answer all of these alike."""
        if not self._signer.verify(tenant_id, attachment_id, expires, signature, self._clock.now()):
            return None
        attachment = await self._repository.get(tenant_id, attachment_id)
        if attachment is None:
            return None
        return attachment, self._store.stream(attachment.storage_key)

    def open(self, attachment: Attachment) -> AsyncIterator[bytes]:
        """The bytes of an attachment (for uploading it to a provider)."""
        return self._store.stream(attachment.storage_key)
