"""Events one feature announces and others act on, so dependencies point one way.

A lower feature (accounts, projects) sends; a higher one (deliverables) connects a
receiver in its ``init_app``. Receivers run inside the sender's transaction: they
add to the session and never commit. Every signal is sent with the acting user as
its sender::

    approvers_changed.send(actor, project=project)

Unlike the registries (one set per app), a signal's receivers are the process's: every app
built in the process shares them. That is harmless because each receiver works on the
current app's session, and connecting the same function again (each ``create_app``) keeps
one connection.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: The people who approve on ``project`` changed (an approver left, stopped approving or was
#: deactivated) or its approval rule did. Keyword: ``project``.
approvers_changed = _signals.signal("approvers-changed")
