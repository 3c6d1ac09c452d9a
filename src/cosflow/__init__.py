"""cosflow: a self-hosted, Tencent-COS-compatible object store with media workflows and callbacks."""

__version__ = "0.1.0"
