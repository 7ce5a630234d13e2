"""Domain errors: services raise them, ``portal.web.committing`` turns them into messages and 4xx."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action; ``message`` is shown to the user.

    ``message`` is a lazily translated string, so it renders in the language of
    whoever reads it. ``field`` names the form field it belongs to, if any.
    ``status`` is what a view answers with: 422 (the input breaks a rule) unless a
    subclass says otherwise.
    """

    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The actor may not do this."""

    status = 403


class Conflict(DomainError):
    """The object changed under the actor (a race, or a stale form)."""

    status = 409
