"""Named, ordered entries that features add to the app in their ``init_app``.

Shared pages do not know the features: the project page renders the sections, the
weekly update the facts, the home pages the attention items that each feature added
when the app was built. Entries belong to one app (``app.extensions``), so two apps
in one process (tests, the scheduler beside a shell) never see each other's, and
nothing is registered by importing a module::

    # portal/goals/__init__.py
    def init_app(app: Flask) -> None:
        project_sections.add(app, "goals", Section(...), order=10)

    # a page
    for section in project_sections.entries():  # the current app's, in order
        ...

Adding a key again replaces its entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Flask, current_app

T = TypeVar("T")

EXTENSION = "rapport.registries"  # app.extensions[EXTENSION]: registry name -> its entries in that app


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered value, with its key and its place in the order."""

    key: str
    order: int
    value: T


class _Table(Generic[T]):
    """The entries of one registry in one app, kept sorted (pages read them on every request)."""

    def __init__(self) -> None:
        self.by_key: dict[str, Entry[T]] = {}
        self.ordered: list[Entry[T]] = []

    def put(self, entry: Entry[T]) -> None:
        self.by_key[entry.key] = entry
        self._sort()

    def drop(self, key: str) -> None:
        self.by_key.pop(key, None)
        self._sort()

    def _sort(self) -> None:
        self.ordered = sorted(self.by_key.values(), key=lambda e: (e.order, e.key))


class Registry(Generic[T]):
    """A kind of entry features add (sections of a page, fact providers, attention kinds…)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _table(self, app: Flask | None = None) -> _Table[T]:
        tables: dict[str, _Table[T]] = (app or current_app).extensions.setdefault(EXTENSION, {})
        table = tables.get(self.name)
        if table is None:
            table = tables[self.name] = _Table()
        return table

    def add(self, app: Flask, key: str, value: T, *, order: int) -> None:
        """Add ``value`` under ``key`` at position ``order`` (replacing an entry of the same key)."""
        self._table(app).put(Entry(key, order, value))

    def remove(self, app: Flask, key: str) -> None:
        """Remove the entry of ``key``, if there is one."""
        self._table(app).drop(key)

    def entries(self, app: Flask | None = None) -> list[Entry[T]]:
        """Return the entries of ``app`` (default: the current app) in order."""
        return self._table(app).ordered

    def values(self, app: Flask | None = None) -> list[T]:
        """Return the registered values in order."""
        return [entry.value for entry in self._table(app).ordered]

    def keys(self, app: Flask | None = None) -> list[str]:
        """Return the registered keys in order."""
        return [entry.key for entry in self._table(app).ordered]

    def get(self, key: str, app: Flask | None = None) -> T | None:
        """Return the value registered under ``key``, or None."""
        entry = self._table(app).by_key.get(key)
        return entry.value if entry is not None else None
