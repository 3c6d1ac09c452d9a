"""The production registry: node Type -> processor. Types absent here are refused at creation."""

from __future__ import annotations

from cosflow.media.base import Registry


def default_registry() -> Registry:
    return {}
