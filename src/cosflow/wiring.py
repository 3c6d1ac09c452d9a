"""The composition root's parts: build every long-lived component from the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from cosflow.db.engine import make_engine, migrate
from cosflow.services import garbage
from cosflow.services.buckets import BucketService
from cosflow.services.multipart import MultipartService
from cosflow.services.objects import ObjectService
from cosflow.settings import Settings
from cosflow.storage.base import BlobStore
from cosflow.storage.filesystem import FileBlobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    store: BlobStore
    buckets: BucketService
    objects: ObjectService
    multipart: MultipartService

    def close(self) -> None:
        self.engine.dispose()


def build_services(settings: Settings, store: BlobStore | None = None) -> Services:
    """Open the database (migrating it), the blob store, and the services over them."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    store = store or FileBlobStore(settings.data_dir / "storage")
    swept = store.sweep()
    collected = garbage.collect(engine, store)
    if swept or collected:
        log.info("cleaned up after an interrupted run", extra={"temp_files": swept, "blobs": collected})
    return Services(
        settings=settings,
        engine=engine,
        store=store,
        buckets=BucketService(engine, settings),
        objects=ObjectService(engine, store, settings),
        multipart=MultipartService(engine, store, settings),
    )
