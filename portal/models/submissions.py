"""One-time form submissions: what a create form's key already made, so a repeat does nothing."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Model, TimestampMixin


class FormSubmission(TimestampMixin, Model):
    """A create form sent once by a user: its one-time key and where its result lives."""

    __tablename__ = "form_submissions"
    __table_args__ = (UniqueConstraint("user_id", "key", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    result_url: Mapped[str] = mapped_column(String(500))
    # A hash of what the form said: the same key with other values (Back, then an edit) is another submission.
    fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # created_at (TimestampMixin): a user's keys older than once.RETENTION go when they next send a form.

    def __repr__(self) -> str:
        return f"<FormSubmission {self.id} user={self.user_id} → {self.result_url}>"
