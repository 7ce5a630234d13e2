"""The emails pins queue: a client's pin for the account manager, a reply for the other side.

Internal pins and their replies never reach a client. Queued in the caller's
transaction, once per recipient, only to people who want activity emails.
"""

from __future__ import annotations

from portal.models import Role, User
from portal.models.pins import PinReply, ReviewPin
from portal.notify.service import queue_each
from portal.urls import portal_url


def _link(pin: ReviewPin) -> str:
    """Return the absolute link to the pin on its file's review page."""
    return f"{portal_url('pins.review', file_id=pin.file_id)}#pin-{pin.number}"


def queue_placed(pin: ReviewPin, actor: User) -> None:
    """Tell the account manager that a client placed ``pin`` (staff's own pins need no email)."""
    if actor.is_staff:
        return
    manager = pin.deliverable.project.manager
    queue_each(
        [manager] if manager is not None and manager.wants_activity_email else [],
        kind="pin_placed",
        key=f"pin:{pin.id}:to",
        template="emails/pin_placed.html",
        project=pin.deliverable.project,
        deliverable=pin.deliverable,
        pin=pin,
        actor=actor,
        link=_link(pin),
    )


def queue_reply(reply: PinReply, actor: User) -> None:
    """Tell the other side of the pin's thread about ``reply``: the client members when staff write (not on internal pins), else the manager."""
    pin = reply.pin
    project = pin.deliverable.project
    if actor.is_staff:
        if pin.internal:
            return
        people = [m.user for m in project.members if m.user.role is Role.CLIENT and m.user.client_id == project.client_id]
    else:
        people = [project.manager] if project.manager is not None else []
    queue_each(
        (p for p in people if p.id != actor.id and p.active and p.wants_activity_email),
        kind="pin_reply",
        key=f"pin-reply:{reply.id}:to",
        template="emails/pin_reply.html",
        project=project,
        deliverable=pin.deliverable,
        pin=pin,
        reply=reply,
        actor=actor,
        link=_link(pin),
    )
