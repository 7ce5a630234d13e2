"""Pages assembled from sections that feature packages contribute.

The project page and the home pages do not know the features: a feature
registers a function returning the context of its block (or None to leave it
out) and the page renders every registered block in order.

    @project_sections.register("goals", order=10, template="goals/_project_section.html")
    def goals_section(viewer: User, project: Project) -> dict | None: ...

    @home_panels.register("deliverables_decisions", order=13, template="deliverables/_home_decisions.html")
    def decisions_panel(viewer: User, projects: list[Project]) -> dict | None: ...

Every provider must run a constant number of queries, however much it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Provider = Callable[..., dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    """One block of a page."""

    key: str
    order: int
    template: str
    context: Provider


class SectionRegistry:
    """The ordered blocks of one kind of page."""

    def __init__(self) -> None:
        self._sections: dict[str, Section] = {}

    def register(self, key: str, *, order: int, template: str) -> Callable[[Provider], Provider]:
        """Register a block (decorator); registering a key again replaces it."""

        def decorator(func: Provider) -> Provider:
            self._sections[key] = Section(key=key, order=order, template=template, context=func)
            return func

        return decorator

    def render(self, *args: Any, skip: frozenset[str] = frozenset()) -> list[tuple[str, dict[str, Any]]]:
        """Return (template, context) of every block that has something to show, in order, except the ``skip`` keys."""
        blocks = []
        for section in sorted(self._sections.values(), key=lambda s: s.order):
            if section.key in skip:
                continue
            context = section.context(*args)
            if context is not None:
                blocks.append((section.template, context))
        return blocks


# Blocks of the project page: provider(viewer, project).
project_sections = SectionRegistry()
# Blocks of the home page, for clients and staff alike: provider(viewer, projects),
# where ``projects`` are the projects the viewer sees (staff: those on the current page).
home_panels = SectionRegistry()
