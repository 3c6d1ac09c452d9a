"""Streaming request bodies into the blob store without holding them in memory."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator

from anyio import to_thread

from cosflow.errors import BadDigest, EntityTooLarge, IncompleteBody, InvalidDigest
from cosflow.services import space
from cosflow.storage.base import BlobInfo, BlobStore

#: Bytes gathered before one hand-off to a worker thread: few thread hops, bounded memory.
FLUSH_BYTES = 1024 * 1024


def expected_md5(content_md5: str | None) -> str | None:
    """The hex digest a ``Content-MD5`` header (base64 of the raw digest) promises."""
    if content_md5 is None:
        return None
    try:
        raw = base64.b64decode(content_md5.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidDigest(resource="Content-MD5") from exc
    if len(raw) != 16:
        raise InvalidDigest(resource="Content-MD5")
    return raw.hex()


async def receive(
    store: BlobStore,
    body: AsyncIterator[bytes],
    *,
    max_bytes: int,
    content_length: int | None = None,
    content_md5: str | None = None,
) -> BlobInfo:
    """Write ``body`` to a new blob; on any failure nothing is left behind. Raises
    :class:`~cosflow.errors.InsufficientStorage` before a byte is read while the disk is full, and
    while receiving once the disk reserve has been lent to a delete (:func:`space.require_room`,
    checked before each hand-off): an upload in flight gives up the room a delete needs instead of
    taking it."""
    want_md5 = expected_md5(content_md5)
    if content_length is not None and content_length > max_bytes:
        raise EntityTooLarge(f"objects and parts are at most {max_bytes} bytes")
    await space.require_room(store)
    writer = await to_thread.run_sync(store.writer)
    # One hand-off is hashed and written in a worker thread while the next one is received:
    # md5 alone runs at ~750 MB/s here, so doing both in turn halved the upload rate.
    in_flight: asyncio.Task[None] | None = None
    try:
        pending: list[bytes] = []
        pending_size = total = 0
        async for chunk in body:
            total += len(chunk)
            if total > max_bytes or (content_length is not None and total > content_length):
                raise EntityTooLarge(f"the body is larger than {min(max_bytes, content_length or max_bytes)} bytes")
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= FLUSH_BYTES:
                if in_flight is not None:
                    await in_flight
                await space.require_room(store)
                in_flight = asyncio.create_task(to_thread.run_sync(writer.write, b"".join(pending)))
                pending, pending_size = [], 0
        if in_flight is not None:
            await in_flight
        if pending:
            await space.require_room(store)
            await to_thread.run_sync(writer.write, b"".join(pending))
        if content_length is not None and total < content_length:
            raise IncompleteBody(f"received {total} of {content_length} bytes")
        info = await to_thread.run_sync(writer.commit)
    except BaseException:
        if in_flight is not None:  # never close the file under a write still running
            await asyncio.gather(in_flight, return_exceptions=True)
        await to_thread.run_sync(writer.abort)
        raise
    if want_md5 is not None and info.md5_hex != want_md5:
        await to_thread.run_sync(store.delete, info.blob_id)
        raise BadDigest(f"Content-MD5 was {want_md5}, the body's md5 is {info.md5_hex}")
    return info
