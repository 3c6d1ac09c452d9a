"""The composition root's parts: build every long-lived component from the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from cosflow.callbacks.dispatcher import CallbackDispatcher
from cosflow.db.engine import make_engine, migrate
from cosflow.executors.dispatcher import Dispatcher
from cosflow.executors.inprocess import InProcessExecutor
from cosflow.media.base import Registry
from cosflow.media.presets import PRESETS
from cosflow.media.registry import default_registry
from cosflow.services import garbage
from cosflow.services.buckets import BucketService
from cosflow.services.callbacks import CallbackRecorder, CallbackService
from cosflow.services.executions import ExecutionService
from cosflow.services.multipart import MultipartService
from cosflow.services.objects import ObjectService
from cosflow.services.queues import QueueService
from cosflow.services.runner import Runner
from cosflow.services.scheduler import Scheduler, Wakeup
from cosflow.services.templates import TemplateService, seed_presets
from cosflow.services.workflows import WorkflowService
from cosflow.settings import Settings
from cosflow.storage.base import BlobStore
from cosflow.storage.dirlock import DataDirLock
from cosflow.storage.filesystem import FileBlobStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: BlobStore
    registry: Registry
    buckets: BucketService
    objects: ObjectService
    multipart: MultipartService
    templates: TemplateService
    workflows: WorkflowService
    executions: ExecutionService
    queues: QueueService
    scheduler: Scheduler
    runner: Runner
    wakeup: Wakeup
    callbacks: CallbackService
    lock: DataDirLock | None = None
    background: list[InProcessExecutor | Dispatcher | CallbackDispatcher] = field(default_factory=list)

    async def start(self) -> None:
        """Re-queue what a dead process left running, clear its scratch dirs, then start the executor
        and the dispatcher."""
        self.scheduler.recover()
        orphans, dirs = self.runner.sweep_work_dirs()
        if orphans or dirs:
            log.warning("cleaned up tasks cut short earlier", extra={"ffmpeg_killed": orphans, "scratch_dirs": dirs})
        executor = InProcessExecutor(self.runner.run_task, self.settings.workers)
        dispatcher = Dispatcher(self.scheduler, executor, self.wakeup)
        self.background = [executor, dispatcher, CallbackDispatcher(self.engine, self.settings, self.wakeup)]
        for part in self.background:
            await part.start()

    async def stop(self) -> None:
        try:
            for part in reversed(self.background):
                await part.stop()
            self.engine.dispose()
            self.store.close()
        finally:
            if self.lock is not None:
                self.lock.release()


def build_services(settings: Settings, registry: Registry | None = None, store: BlobStore | None = None) -> Services:
    """Lock the data directory, open the database (migrating it), the blob store, the services."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    try:
        services = _build(settings, registry, store)
    except BaseException:
        lock.release()
        raise
    services.lock = lock
    return services


def open_blob_store(settings: Settings) -> BlobStore:
    """The store ``blob_store`` names. S3 is checked now (:func:`cosflow.storage.s3.connect`), so
    bad settings stop start-up with one line; only the filesystem keeps a full-disk reserve."""
    if settings.blob_store == "s3":
        from cosflow.storage import s3_client  # boto3 loads only when it is used

        return s3_client.connect(settings)
    return FileBlobStore(settings.data_dir / "storage", settings.disk_reserve_bytes)


def _build(settings: Settings, registry: Registry | None, store: BlobStore | None) -> Services:
    store = store or open_blob_store(settings)  # first: a store that cannot be used changes nothing
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    swept = store.sweep()
    collected = garbage.collect(engine, store)
    if swept or collected:
        log.info("cleaned up after an interrupted run", extra={"temp_files": swept, "blobs": collected})
    registry = default_registry() if registry is None else registry
    seed_presets(engine, [(p.template_id, p.name, p.tag, p.body_xml) for p in PRESETS])
    wakeup = Wakeup()
    scheduler = Scheduler(engine, wakeup, CallbackRecorder(settings))
    workflows = WorkflowService(engine, scheduler, registry, settings.region)
    objects = ObjectService(engine, store, settings, hook=workflows)
    return Services(
        settings=settings,
        engine=engine,
        store=store,
        registry=registry,
        buckets=BucketService(engine, settings),
        objects=objects,
        multipart=MultipartService(engine, store, settings, hook=workflows),
        templates=TemplateService(engine, registry, workflows),
        workflows=workflows,
        executions=ExecutionService(engine),
        queues=QueueService(engine, wakeup),
        scheduler=scheduler,
        runner=Runner(engine, objects, store, scheduler, registry, settings),
        wakeup=wakeup,
        callbacks=CallbackService(engine, wakeup),
    )
