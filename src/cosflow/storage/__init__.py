"""Object bytes, behind :class:`~cosflow.storage.base.BlobStore`; metadata lives in ``cosflow.db``."""
