"""Pages assembled from sections that feature packages contribute.

The project page and the home pages do not know the features: a feature adds, in
its ``init_app``, a function returning the context of its block (or None to leave it
out), and the page renders every added block in order::

    project_sections.add(app, "goals", Section("goals/_project_section.html", goals_section), order=10)

    def goals_section(viewer: User, project: Project) -> dict | None: ...

Every provider must run a constant number of queries, however much it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.registry import Registry

Provider = Callable[..., dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    """One block of a page: the template that draws it and the function that returns its context."""

    template: str
    context: Provider


class SectionRegistry(Registry[Section]):
    """The ordered blocks of one kind of page."""

    def render(self, *args: Any, skip: frozenset[str] = frozenset()) -> list[tuple[str, dict[str, Any]]]:
        """Return (template, context) of every block that has something to show, in order, except the ``skip`` keys."""
        blocks = []
        for entry in self.entries():
            if entry.key in skip:
                continue
            context = entry.value.context(*args)
            if context is not None:
                blocks.append((entry.value.template, context))
        return blocks


# Blocks of the project page: provider(viewer, project).
project_sections = SectionRegistry("project_sections")
# Blocks of the home page, for clients and staff alike: provider(viewer, projects),
# where ``projects`` are the projects the viewer sees (staff: those on the current page).
home_panels = SectionRegistry("home_panels")
# Blocks of the account page, below the profile and the password: provider(viewer).
account_sections = SectionRegistry("account_sections")
