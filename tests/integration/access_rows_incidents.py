"""Access matrix rows of incidents: the project's list, the incident page, the staff forms and the client's answers.

Every incident route answers 404 to another organisation's people (and to the other manager);
clients never reach staff forms (403) and never see an internal incident (404). The incidents
the rows act on are made directly, without activity events (refusals are checked to record none);
single-use ones (a step to mark done, a plan to accept, a trust question) are made afresh per visitor.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

LOGIN = "/login"
DONE = "done"


def _incident(scene: Any, *, visibility: str = "shared", steps: int = 1, done: bool = False, closed: bool = False) -> Any:
    """Make an incident on the world's project directly (no activity events)."""
    from portal.extensions import db
    from portal.models import Incident, IncidentStatus, RecoveryStep, Visibility
    from portal.timeutil import utcnow

    world = scene.world
    now = utcnow()
    incident = Incident(
        project=world.project,
        opened_by=world.manager,
        title="The shop was down",
        detected_at=now - timedelta(hours=3),
        impact="Lost orders",
        visibility=Visibility(visibility),
        status=IncidentStatus.CLOSED if closed else IncidentStatus.OPEN,
        closed_at=now if closed else None,
        closing_note="Fixed" if closed else "",
    )
    db.session.add(incident)
    for i in range(steps):
        db.session.add(
            RecoveryStep(
                incident=incident,
                title=f"Step {i + 1}",
                due_on=now.date() + timedelta(days=i),
                owner=world.manager,
                done_at=now if done or closed else None,
            )
        )
    db.session.commit()
    return incident


def _shared(scene: Any) -> int:
    if "incident" not in scene._cache:
        scene._cache["incident"] = _incident(scene).id
    return scene._cache["incident"]


def _internal(scene: Any) -> int:
    if "internal_incident" not in scene._cache:
        scene._cache["internal_incident"] = _incident(scene, visibility="internal").id
    return scene._cache["internal_incident"]


def _step_incident(scene: Any) -> int:
    """A fresh open incident with one step to do; ``{step}``, named after it in a URL, is that step."""
    incident = _incident(scene)
    scene._cache["step"] = incident.steps[0].id
    return incident.id


def _step(scene: Any) -> int:
    return scene._cache["step"]


def _fresh(scene: Any) -> int:
    """A fresh open shared incident with a plan (to accept)."""
    return _incident(scene).id


def _closable(scene: Any) -> int:
    """A fresh open incident whose plan is done."""
    return _incident(scene, done=True).id


def _closed(scene: Any) -> int:
    """A fresh closed shared incident (whose trust question is not answered)."""
    return _incident(scene, closed=True).id


def _incident_form(scene: Any) -> dict:
    from portal.timeutil import utcnow

    detected = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return {"title": "Mail bounced", "detected_at": detected, "impact": "Readers missed the sale", "visibility": "shared", "cause": "A full disk"}


def _step_form(scene: Any) -> dict:
    from portal.timeutil import utcnow

    return {"step-title": "Resend the newsletter", "step-due_on": utcnow().date().isoformat(), "step-owner": "client"}


def _edit_step_form(scene: Any) -> dict:
    from portal.timeutil import utcnow

    return {"title": "Resend it", "due_on": utcnow().date().isoformat(), "owner": "client"}


def _close_form(scene: Any) -> dict:
    return {"close-note": "Everything is restored"}


def _trust_form(scene: Any) -> dict:
    return {"trust-restored": "yes", "trust-note": ""}


def extend(scene_class: type) -> list:
    """Return the feature's rows (and teach the scene the incidents they act on)."""
    from tests.integration.test_access_matrix import row

    scene_class.incident = _shared
    scene_class.internal_incident = _internal
    scene_class.step_incident = _step_incident
    scene_class.step = _step
    scene_class.fresh_incident = _fresh
    scene_class.closable_incident = _closable
    scene_class.closed_incident = _closed
    staff_only = (LOGIN, 403, 403, DONE, 404, DONE)  # anonymous, other client, own client, manager, other manager, admin
    # fmt: off
    return [
        row("GET",  "/projects/{project}/incidents",                          LOGIN, 404, 200,  200, 404, 200),
        row("GET",  "/projects/{project}/incidents/new",                      LOGIN, 403, 403,  200, 404, 200),
        row("POST", "/projects/{project}/incidents/new",                      *staff_only, data=_incident_form),
        row("GET",  "/incidents/{incident}",                                  LOGIN, 404, 200,  200, 404, 200),
        row("GET",  "/incidents/{internal_incident}",                         LOGIN, 404, 404,  200, 404, 200),
        row("GET",  "/incidents/{incident}/edit",                             LOGIN, 403, 403,  200, 404, 200),
        row("POST", "/incidents/{incident}/edit",                             *staff_only, data=_incident_form),
        row("POST", "/incidents/{incident}/steps",                            *staff_only, data=_step_form),
        row("GET",  "/incidents/{step_incident}/steps/{step}/edit",           LOGIN, 403, 403,  200, 404, 200),
        row("POST", "/incidents/{step_incident}/steps/{step}/edit",           *staff_only, data=_edit_step_form),
        row("POST", "/incidents/{step_incident}/steps/{step}/done",           *staff_only),
        row("POST", "/incidents/{closable_incident}/close",                   *staff_only, data=_close_form),
        row("POST", "/incidents/{fresh_incident}/accept",                     LOGIN, 404, DONE, 403, 404, 403),
        row("POST", "/incidents/{internal_incident}/accept",                  LOGIN, 404, 404,  403, 404, 403),
        row("POST", "/incidents/{closed_incident}/trust",                     LOGIN, 404, DONE, 403, 404, 403, data=_trust_form),
    ]
    # fmt: on
