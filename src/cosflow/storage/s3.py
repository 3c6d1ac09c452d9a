"""Blobs as objects in an S3-compatible bucket (MinIO, Ceph RGW, AWS S3, COS) through boto3.

Layout: every blob is the object ``<prefix>blobs/<id>``. A blob id is drawn when its writer is
made, and the object appears only when S3 says it is whole: a ``PutObject`` for a body smaller than
one part, else ``CompleteMultipartUpload``; an aborted writer aborts its S3 multipart upload, so
nothing is left (docs/storage-s3.md).

A composed blob (a COS multipart completion) is a small JSON manifest at the blob's key, marked by
the user metadata ``x-amz-meta-cosflow-composed``, that names its part blobs: completing an upload
writes a few hundred bytes whatever its size, as on the filesystem (docs/design-choices.md
"Multipart objects on S3").

Every botocore error becomes a domain error here (:func:`failure`): a full store is
:class:`~cosflow.errors.InsufficientStorage`, anything else a :class:`~cosflow.errors.StorageError`
whose message says what failed in words, never a key, an endpoint secret or a credential.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cosflow.errors import ConfigError, CosflowError, InsufficientStorage, StorageError
from cosflow.ids import blob_id as new_blob_id
from cosflow.settings import S3_MAX_PART_BYTES
from cosflow.storage.base import BlobInfo, NoDiskReserve
from cosflow.storage.s3_reader import S3Reader

log = logging.getLogger(__name__)

#: User metadata (``x-amz-meta-…``) that marks a blob's object as a manifest of parts.
COMPOSED = "cosflow-composed"
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys
MISSING = {"404", "NoSuchKey", "NotFound"}
REFUSED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
#: What MinIO, Ceph and AWS answer when the store (or the bucket's quota) is full.
_FULL = {"XMinioStorageFull", "QuotaExceeded", "InsufficientCapacity", "XMinioAdminBucketQuotaExceeded"}


def failure(action: str, exc: Exception) -> CosflowError:
    """``exc`` (a botocore error) as the domain error to raise ``from`` it, ``action`` first."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _FULL:
            return InsufficientStorage()
        if code in MISSING:
            return StorageError(f"{action}: it is not in the object store")
        if code == "NoSuchBucket":
            return StorageError(f"{action}: the object store's bucket does not exist")
        if code in REFUSED:
            return StorageError(f"{action}: the object store refused cosflow's credentials")
        return StorageError(f"{action}: the object store answered {code or 'an error'}")
    if isinstance(exc, NoCredentialsError):
        return StorageError(f"{action}: no credentials for the object store are configured")
    return StorageError(f"{action}: the object store could not be reached")


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in MISSING


class S3BlobWriter:
    """Buffers one part; each full part is uploaded in the background while the next one fills, so
    an upload holds at most two parts in memory. Thread-safe like the filesystem writer: an abort
    from another thread waits for a write still running."""

    def __init__(self, store: S3BlobStore, blob_id: str | None = None) -> None:
        self._store = store
        #: Drawn now (S3 needs the key to start a multipart upload); tests may pass one.
        self.blob_id = blob_id or new_blob_id()
        self._key = store.key(self.blob_id)
        self._buffer = bytearray()
        self._md5 = hashlib.md5()
        self._size = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._in_flight: Future[dict[str, Any]] | None = None
        self._done = False
        self._lock = threading.RLock()

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._done:
                raise StorageError("could not store the object: the upload was already finished")
            self._md5.update(data)
            self._size += len(data)
            self._buffer += data
            if len(self._buffer) >= self._store.part_bytes:
                part, self._buffer = self._buffer, bytearray()
                self._send(part)

    def _send(self, part: bytearray) -> None:
        client, bucket = self._store.client, self._store.bucket
        if self._upload_id is None:
            try:
                self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=self._key)["UploadId"]
            except (BotoCoreError, ClientError) as exc:
                raise failure("could not store the object", exc) from exc
        self._wait()
        number = len(self._parts) + 1
        self._in_flight = self._store.pool.submit(self._upload_part, number, part)

    def _upload_part(self, number: int, part: bytearray) -> dict[str, Any]:
        answer = self._store.client.upload_part(
            Bucket=self._store.bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _wait(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return
        try:
            self._parts.append(in_flight.result())
        except (BotoCoreError, ClientError) as exc:
            raise failure("could not store the object", exc) from exc

    def commit(self) -> BlobInfo:
        with self._lock:
            if self._done:
                raise StorageError("could not store the object: the upload was already finished")
            try:
                self._finish()
            except BaseException:
                self.abort()
                raise
            self._done = True
            return BlobInfo(self.blob_id, self._size, self._md5.hexdigest())

    def _finish(self) -> None:
        client, bucket = self._store.client, self._store.bucket
        try:
            if self._upload_id is None:  # one request: PutObject is all or nothing
                md5 = base64.b64encode(self._md5.digest()).decode()
                client.put_object(Bucket=bucket, Key=self._key, Body=self._buffer, ContentMD5=md5)
                return
            if self._buffer:
                part, self._buffer = self._buffer, bytearray()
                self._send(part)
            self._wait()
            client.complete_multipart_upload(
                Bucket=bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        except (BotoCoreError, ClientError) as exc:
            raise failure("could not store the object", exc) from exc

    def abort(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            self._buffer = bytearray()
            if self._in_flight is not None:
                self._in_flight.exception()  # wait for it; its error no longer matters
                self._in_flight = None
            if self._upload_id is not None:
                self._store.abort_upload(self._key, self._upload_id)


class S3BlobStore(NoDiskReserve):  # no local disk: the full-disk reserve does not apply
    """``client``: a boto3 S3 client (thread-safe, shared); ``bucket`` must exist
    (:func:`cosflow.storage.s3_client.check`).
    ``stale_upload_seconds``: :meth:`sweep` aborts only multipart uploads older than this, so a
    server starting never cuts short an upload that another node is still sending."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        part_bytes: int = 8 * 1024 * 1024,
        stale_upload_seconds: float = 86400.0,
    ) -> None:
        if not 0 < part_bytes <= S3_MAX_PART_BYTES:
            raise ConfigError("the S3 part size must be between 1 byte and 5 GiB")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.part_bytes = part_bytes
        self.stale_upload_seconds = stale_upload_seconds
        #: Part uploads, HEADs of parts, copies: requests that may run side by side.
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="cosflow-s3")
        #: blob id -> readers open on it here; blobs deleted while read, deleted at the last close
        self._pins: dict[str, int] = {}
        self._doomed: set[str] = set()
        self._pins_lock = threading.Lock()

    def key(self, blob_id: str) -> str:
        if not blob_id.isalnum():  # ids are ours; anything else is a bug, never a key
            raise StorageError("bad blob id: not one this server made")
        return f"{self.prefix}blobs/{blob_id}"

    # --- the protocol -------------------------------------------------------------------------
    def writer(self) -> S3BlobWriter:
        return S3BlobWriter(self)

    def open(self, blob_id: str) -> BinaryIO:
        """Checks the blob is there (one HEAD, plus one GET of a manifest); bytes are fetched by
        ranged GETs as they are read (:class:`S3Reader`). Like an open file, the reader pins the
        blob: a :meth:`delete` meanwhile (an overwrite's collection) waits for its close."""
        segments = self._segments(blob_id, "could not read the object")
        with self._pins_lock:
            self._pins[blob_id] = self._pins.get(blob_id, 0) + 1
        reader = S3Reader(self._get, segments, failure, on_close=lambda: self._unpin(blob_id))
        return io.BufferedReader(reader, buffer_size=256 * 1024)  # type: ignore[return-value]

    def _unpin(self, blob_id: str) -> None:
        with self._pins_lock:
            left = self._pins.pop(blob_id) - 1
            if left:
                self._pins[blob_id] = left
                return
            doomed = blob_id in self._doomed
            self._doomed.discard(blob_id)
        if doomed:
            try:
                self._delete(blob_id)
            except StorageError:  # the blob is no longer listed anywhere: log it, never fail a read
                log.warning("could not delete a replaced blob after its last read", exc_info=True)

    def compose(self, blob_ids: Sequence[str]) -> BlobInfo:
        action = "could not put the parts together"
        sizes = list(self.pool.map(lambda b: int(self._head(b, action)["ContentLength"]), blob_ids))
        blob_id = new_blob_id()
        self._put_manifest(blob_id, list(zip(blob_ids, sizes, strict=True)), action)
        return BlobInfo(blob_id, sum(sizes), "")

    def decompose(self, blob_id: str) -> None:
        self._delete_keys([self.key(blob_id)], "could not undo putting the parts together")

    def copy(self, blob_id: str) -> BlobInfo:
        """Server-side: ``CopyObject`` per plain blob (each at most 5 GiB, the part limit), so no
        byte passes through cosflow; a composed blob's parts are copied and a new manifest names
        them."""
        action = "could not copy the object"
        head = self._head(blob_id, action)
        if not head.get("Metadata", {}).get(COMPOSED):
            new_id = self._copy_plain(blob_id, action)
            return BlobInfo(new_id, int(head["ContentLength"]), "")
        parts = self._manifest(blob_id, action)
        copies = [self.pool.submit(self._copy_plain, part, action) for part, _ in parts]
        new_ids = [c.result() for c in copies if c.exception() is None]
        if len(new_ids) != len(parts):
            self._delete_keys([self.key(p) for p in new_ids], action)
            raise next(c.exception() for c in copies if c.exception() is not None)  # type: ignore[misc]
        new_id = new_blob_id()
        try:
            self._put_manifest(new_id, [(p, n) for p, (_, n) in zip(new_ids, parts, strict=True)], action)
        except BaseException:
            self._delete_keys([self.key(p) for p in new_ids], action)
            raise
        return BlobInfo(new_id, sum(n for _, n in parts), "")

    def delete(self, blob_id: str) -> None:
        """Deferred to the close of the last reader this process has open on the blob (see
        :meth:`open`); readers in other processes are not pinned (docs/storage-s3.md)."""
        with self._pins_lock:
            if self._pins.get(blob_id):
                self._doomed.add(blob_id)
                return
        self._delete(blob_id)

    def _delete(self, blob_id: str) -> None:
        action = "could not delete the object"
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(blob_id))
        except ClientError as exc:
            if _is_missing(exc):
                return
            raise failure(action, exc) from exc
        except BotoCoreError as exc:
            raise failure(action, exc) from exc
        if head.get("Metadata", {}).get(COMPOSED):
            self._delete_keys([self.key(p) for p, _ in self._manifest(blob_id, action)], action)
        self._delete_keys([self.key(blob_id)], action)

    def exists(self, blob_id: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(blob_id))
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise failure("could not look up the object", exc) from exc
        except BotoCoreError as exc:
            raise failure("could not look up the object", exc) from exc
        return True

    def sweep(self) -> int:
        """Abort this store's multipart uploads left by a writer that died (older than
        ``stale_upload_seconds``); returns how many."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.stale_upload_seconds)
        removed = 0
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self.prefix + "blobs/"
            )
            for page in pages:
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"] <= cutoff:
                        self.abort_upload(upload["Key"], upload["UploadId"])
                        removed += 1
        except (BotoCoreError, ClientError) as exc:
            raise failure("could not clean up interrupted uploads", exc) from exc
        return removed

    # --- pieces -------------------------------------------------------------------------------
    def _get(self, key: str, first: int, last: int) -> Any:
        """The body of a ranged GET (a streaming reader); errors are left to the caller."""
        return self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={first}-{last}")["Body"]

    def _head(self, blob_id: str, action: str) -> dict[str, Any]:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(blob_id))  # type: ignore[no-any-return]
        except (BotoCoreError, ClientError) as exc:
            raise failure(action, exc) from exc

    def _segments(self, blob_id: str, action: str) -> list[tuple[str, int]]:
        head = self._head(blob_id, action)
        if head.get("Metadata", {}).get(COMPOSED):
            return [(self.key(p), n) for p, n in self._manifest(blob_id, action)]
        return [(self.key(blob_id), int(head["ContentLength"]))]

    def _manifest(self, blob_id: str, action: str) -> list[tuple[str, int]]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(blob_id))["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise failure(action, exc) from exc
        try:
            return [(str(p), int(n)) for p, n in json.loads(body)["parts"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"{action}: its parts list is damaged") from exc

    def _put_manifest(self, blob_id: str, parts: list[tuple[str, int]], action: str) -> None:
        body = json.dumps({"parts": parts}).encode()
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(blob_id),
                Body=body,
                ContentType="application/json",
                Metadata={COMPOSED: "1"},
            )
        except (BotoCoreError, ClientError) as exc:
            raise failure(action, exc) from exc

    def _copy_plain(self, blob_id: str, action: str) -> str:
        new_id = new_blob_id()
        source = {"Bucket": self.bucket, "Key": self.key(blob_id)}
        try:
            self.client.copy_object(Bucket=self.bucket, Key=self.key(new_id), CopySource=source)
        except (BotoCoreError, ClientError) as exc:
            raise failure(action, exc) from exc
        return new_id

    def _delete_keys(self, keys: list[str], action: str) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": k} for k in keys[start : start + _DELETE_BATCH]]
            try:
                answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            except (BotoCoreError, ClientError) as exc:
                raise failure(action, exc) from exc
            errors = [e for e in answer.get("Errors", ()) if e.get("Code") not in MISSING]
            if errors:
                raise StorageError(f"{action}: the object store answered {errors[0].get('Code', 'an error')}")

    def abort_upload(self, key: str, upload_id: str) -> None:
        """Abort one S3 multipart upload; its parts are gone. A failure is logged, not raised: the
        upload is left to :meth:`sweep` (and to a bucket lifecycle rule, docs/storage-s3.md)."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                log.warning("could not abort an S3 multipart upload", extra={"action": "s3_abort"}, exc_info=True)
        except BotoCoreError:
            log.warning("could not abort an S3 multipart upload", extra={"action": "s3_abort"}, exc_info=True)
