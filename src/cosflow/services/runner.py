"""Running one task: fetch its inputs, run the node's processor, store the outputs, record the result.

Every executor calls :meth:`Runner.run_task` with a task id the scheduler has claimed. Output keys
are deterministic (spec §5.5 patterns), so a task re-run after a crash overwrites, never duplicates.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from sqlalchemy import Engine

from cosflow.db import runs as run_rows
from cosflow.db import templates as template_rows
from cosflow.domain import failures, outputs
from cosflow.domain.ci import Run, Task
from cosflow.domain.records import ObjectAttrs
from cosflow.domain.states import TaskState
from cosflow.domain.topology import Node, parse_topology
from cosflow.errors import CosflowError, InsufficientStorage, StorageError
from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Processor, Product, Registry
from cosflow.services import space
from cosflow.services.objects import ObjectService
from cosflow.services.scheduler import Scheduler
from cosflow.settings import Settings
from cosflow.storage.base import BlobStore

log = logging.getLogger(__name__)
_CHUNK = 1024 * 1024
_TEXT_EXTS = frozenset({"m3u8"})
_CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".webp": "image/webp",
}


@dataclass(frozen=True)
class TaskContext:
    task: Task
    run: Run
    node: Node
    template: ET.Element | None


class Runner:
    def __init__(
        self,
        engine: Engine,
        objects: ObjectService,
        store: BlobStore,
        scheduler: Scheduler,
        registry: Registry,
        settings: Settings,
    ) -> None:
        self._engine = engine
        self._objects = objects
        self._blobs = store
        self._scheduler = scheduler
        self._registry = registry
        self._settings = settings

    @property
    def work_root(self) -> Path:
        return self._settings.data_dir / "work"

    def sweep_work_dirs(self) -> tuple[int, int]:
        """At start, before any task runs: kill the FFmpeg processes a killed server left working
        in its scratch dirs, then remove those dirs (input copies, partial outputs); how many of
        each. Tasks that must run again make fresh dirs."""
        if not self.work_root.is_dir():
            return 0, 0
        orphans = ffmpeg.kill_orphans(self.work_root)
        stale = [p for p in self.work_root.iterdir() if p.is_dir()]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return orphans, len(stale)

    def _load(self, job_id: str) -> TaskContext | None:
        with self._engine.connect() as conn:
            task = run_rows.get_task(conn, job_id)
            if task is None or task.state != TaskState.RUNNING:
                return None  # not claimed (or already finished): nothing to do
            run = run_rows.get_run(conn, task.run_id)
            assert run is not None
            node = parse_topology(ET.fromstring(run.topology_xml)).nodes[task.node_key]
            template = None
            if node.template_id:
                found = template_rows.get_template(conn, run.bucket, node.template_id)
                if found is None:
                    raise MediaError("InvalidArgument", f"template {node.template_id} no longer exists")
                template = found[0].body
        return TaskContext(task, run, node, template)

    async def run_task(self, job_id: str) -> None:
        # One scratch dir per attempt, never reused: an FFmpeg orphaned by a killed server (it runs
        # in its own session) can only write into its own attempt's dir, which the next start
        # deletes, so it can never mix files into the rerun's outputs.
        work = self.work_root / f"{job_id}-{secrets.token_hex(4)}"
        context: TaskContext | None = None
        try:
            context = await to_thread.run_sync(self._load, job_id)
            if context is None:
                return
            await to_thread.run_sync(lambda: work.mkdir(parents=True))
            result = await self._execute(context, work)
            await to_thread.run_sync(self._scheduler.task_succeeded, job_id, result)
        except Exception as exc:  # every failure, a bug too, fails the task (never wedges the run)
            code, message = self._explain(exc, job_id, context, work)
            # Recorded even on a full disk (the reserve is given up for it), or the run would hang.
            await to_thread.run_sync(
                space.with_room, self._blobs, lambda: self._scheduler.task_failed(job_id, code, message)
            )
        finally:
            await to_thread.run_sync(lambda: shutil.rmtree(work, ignore_errors=True))

    def _explain(self, exc: Exception, job_id: str, context: TaskContext | None, work: Path) -> tuple[str, str]:
        """The task's ``Code`` and ``Message``: the object and the reason in words, with no server
        path, scratch name or errno (issue 8 §3.8). The raw detail, paths included, goes to the log."""
        code, message = _words(exc, job_id)
        keys = [key for _, key in context.task.inputs] if context is not None else []
        names: dict[str, str] = {}
        for index, key in enumerate(keys):
            scratch = _scratch_input(work, index, key)
            names |= {str(scratch): key, str(scratch.absolute()): key, str(scratch.resolve()): key}
        data_dir = self._settings.data_dir
        message = failures.scrub(message, names, (str(data_dir), str(data_dir.absolute()), str(data_dir.resolve())))
        if code == "InvalidInput" and len(keys) == 1 and keys[0] not in message:
            message = f"{keys[0]}: {message}"
        detail = f"{type(exc).__name__}: {exc}"  # the raw text, paths and numbers included: for the operator
        log.info("task failed", extra={"action": "task_failed", "job_id": job_id, "code": code, "detail": detail})
        return code, message

    async def _execute(self, context: TaskContext, work: Path) -> dict[str, Any]:
        processor = self._registry.get(context.node.type)
        if processor is None:
            raise MediaError("InvalidArgument", f"no processor for node Type {context.node.type}")
        inputs = [
            await self._fetch(bucket, key, _scratch_input(work, i, key))
            for i, (bucket, key) in enumerate(context.task.inputs)
        ]
        job = Job(
            node_type=context.node.type,
            inputs=tuple(inputs),
            input_keys=tuple(key for _, key in context.task.inputs),
            operation=context.node.operation,
            template=context.template,
            work_dir=work,
            timeout_seconds=self._settings.task_timeout_seconds,
            job_id=context.task.job_id,
        )
        products = await self._process(processor, job, context.task.job_id)
        return await self._store(context, products)

    async def _process(self, processor: Processor, job: Job, job_id: str) -> list[Product]:
        """Run the processor in a worker thread; if this task is cancelled (shutdown), its FFmpeg
        is killed at once rather than left running."""
        cancel = threading.Event()
        token = ffmpeg.CANCEL.set(cancel)  # the worker thread runs in a copy of this context
        try:
            return await to_thread.run_sync(processor, job, self._progress_reporter(job_id), abandon_on_cancel=True)
        except BaseException:
            cancel.set()
            raise
        finally:
            ffmpeg.CANCEL.reset(token)

    async def _fetch(self, bucket: str, key: str, target: Path) -> Path:
        obj, reader = await self._objects.open(bucket, key)

        def copy() -> None:
            with reader, target.open("wb") as out:
                shutil.copyfileobj(reader, out, _CHUNK)

        await to_thread.run_sync(copy)
        return target

    def _progress_reporter(self, job_id: str) -> Any:
        last = [0.0, -1]

        def report(fraction: float) -> None:
            percent = max(0, min(99, int(fraction * 100)))
            now = time.monotonic()
            if percent > last[1] and now - last[0] >= 1.0:
                last[0], last[1] = now, percent
                with self._engine.begin() as conn:
                    run_rows.set_task(conn, job_id, [TaskState.RUNNING], progress=percent)

        return report

    def _names(self, context: TaskContext, products: list[Product]) -> list[tuple[Product, str, str]]:
        operation = context.node.operation
        bucket = (operation.findtext("Output/Bucket") or "").strip() if operation is not None else ""
        bucket = bucket or context.run.bucket
        multi = sum(1 for p in products if not p.sprite) > 1
        named = []
        for product in products:
            field = "Output/SpriteObject" if product.sprite else "Output/Object"
            pattern = (operation.findtext(field) or "").strip() if operation is not None else ""
            if not pattern:
                fallback = outputs.DEFAULT_MULTI_PATTERN if multi else outputs.DEFAULT_PATTERN
                pattern = outputs.DEFAULT_SPRITE_PATTERN if product.sprite else fallback
            source = context.task.inputs[product.source_index][1]
            name_context = outputs.NameContext(source, context.run.run_id, context.task.job_id)
            key = outputs.render(pattern, name_context, product.ext, product.number, product.time_ms)
            named.append((product, bucket, key))
        keys = [(b, k) for _, b, k in named]
        if len(set(keys)) != len(keys):
            raise MediaError(
                "InvalidArgument", "the Output pattern gives several products the same name; add ${Number}"
            )
        return named

    async def _put(self, bucket: str, key: str, path: Path) -> None:
        content_type = _CONTENT_TYPES.get(Path(key).suffix.lower()) or mimetypes.guess_type(key)[0]
        await self._objects.put(
            bucket,
            key,
            _file_chunks(path),
            ObjectAttrs(content_type=content_type or "application/octet-stream"),
            content_length=path.stat().st_size,
            content_md5=None,
            trigger=False,
        )

    async def _put_companions(self, bucket: str, key: str, product: Product) -> None:
        """Store e.g. HLS segments beside their playlist, renamed after it, playlist rewritten."""
        if not product.companions:
            return
        directory, _, filename = key.rpartition("/")
        stem = filename.rsplit(".", 1)[0]
        renames = {c.name: f"{stem}-{c.name}" for c in product.companions}
        for companion in product.companions:
            await self._put(bucket, f"{directory}/{renames[companion.name]}".lstrip("/"), companion)
        if product.ext in _TEXT_EXTS:
            await to_thread.run_sync(_rewrite, product.path, renames)

    async def _store(self, context: TaskContext, products: list[Product]) -> dict[str, Any]:
        result: dict[str, list[dict[str, str]]] = {"objects": [], "sprites": []}
        for product, bucket, key in self._names(context, products):
            await self._put_companions(bucket, key, product)
            await self._put(bucket, key, product.path)  # after its companions: a playlist never dangles
            entry = {
                "bucket": bucket,
                "key": key,
                "url": f"{self._settings.effective_public_url}/{bucket}/{quote(key)}",
                "input": context.task.inputs[product.source_index][1],
            }
            result["sprites" if product.sprite else "objects"].append(entry)
        return result


def _words(exc: Exception, job_id: str) -> tuple[str, str]:
    """A failure's code and message before scrubbing: a processor's own, else words for the kind."""
    if isinstance(exc, InsufficientStorage) or failures.disk_full(exc):
        return "InsufficientStorage", OUT_OF_SPACE
    if isinstance(exc, MediaError):
        return exc.code, exc.message
    if isinstance(exc, StorageError):
        cause = exc.__cause__
        reason = failures.os_words(cause.errno) if isinstance(cause, OSError) else "see the server log"
        return "InternalError", f"the object store failed: {reason}"
    if isinstance(exc, CosflowError):
        return type(exc).__name__, exc.message
    if isinstance(exc, OSError):
        return "InternalError", f"the server could not run the task: {failures.os_words(exc.errno)}"
    log.exception("task crashed", extra={"job_id": job_id})
    return "InternalError", f"the server failed unexpectedly (JobId {job_id}); its log has the detail"


#: A task that met a full disk (its scratch copy, its output, or the store) says so, and what to do.
OUT_OF_SPACE = "the server ran out of disk space while running the task; free space, then run the workflow again"


def _scratch_input(work: Path, index: int, key: str) -> Path:
    """Where input ``index`` (object ``key``) is copied for the processor (its suffix kept for FFmpeg)."""
    return work / f"input-{index}{Path(key).suffix[:16]}"


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await to_thread.run_sync(path.open, "rb")
    try:
        while chunk := await to_thread.run_sync(handle.read, _CHUNK):
            yield chunk
    finally:
        handle.close()


def _rewrite(path: Path, renames: dict[str, str]) -> None:
    """Point a playlist at its companions' stored names."""
    text = path.read_text()
    for old, new in renames.items():
        text = text.replace(old, new)
    path.write_text(text)
