"""Incident pages: a project's incidents, the incident with its recovery plan, and the staff and client forms.

Views are thin: they load what the user may see (clients: shared incidents of their projects;
anything else is a 404), call one service function inside :func:`portal.web.committing`, and
render the same page again with what was typed when the service refuses (a 4xx).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal import once
from portal.access import (
    can_manage_project,
    incident_or_404,
    is_client_member,
    managed_incident_or_404,
    managed_project_or_404,
    project_or_404,
    staff_required,
    step_or_404,
    visible_incidents,
)
from portal.activity import verb_labels
from portal.extensions import db
from portal.incidents import service
from portal.incidents.forms import CLIENT_OWNER, CloseForm, IncidentForm, StepForm, TrustForm
from portal.models import ActivityEvent, Incident, Project, User
from portal.timeutil import project_today, zone_named
from portal.web import committing, require_button_form

bp = Blueprint("incidents", __name__)

SECTION_LIMIT = 5


def _utc(value: datetime | None) -> datetime | None:
    """Read a date-time typed in the viewer's zone as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=zone_named(current_user.timezone)).astimezone(UTC)


def _local(value: datetime) -> datetime:
    """Show a stored UTC date-time in the viewer's zone, as a form field holds it."""
    return value.astimezone(zone_named(current_user.timezone)).replace(tzinfo=None, second=0, microsecond=0)


def _incident_values(form: IncidentForm) -> dict[str, Any]:
    return {
        "title": form.title.data,
        "details": form.details.data,
        "detected_at": _utc(form.detected_at.data),
        "affected": form.affected.data,
        "impact": form.impact.data,
        "cause": form.cause.data,
        "visibility": form.visibility.data,
    }


def _owner(form: StepForm) -> service.Owner:
    return service.CLIENT if form.owner.data == CLIENT_OWNER else service.Owner(form.owner_user())


# --- Lists ----------------------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/incidents")
@login_required
def index(project_id: int):
    """List a project's incidents: open ones first, then those closed."""
    project = project_or_404(current_user, project_id)
    incidents = list(
        db.session.scalars(
            visible_incidents(current_user)
            .where(Incident.project_id == project.id)
            .options(selectinload(Incident.steps))
            .order_by(Incident.status, Incident.detected_at.desc(), Incident.id.desc())
        )
    )
    return render_template(
        "incidents/index.html",
        project=project,
        open_incidents=[i for i in incidents if i.is_open],
        closed_incidents=[i for i in incidents if not i.is_open],
        manage=can_manage_project(current_user, project),
    )


def project_section(viewer: User, project: Project) -> dict[str, Any] | None:
    """The project page's incidents: the open ones with their plan's progress, and how many are closed (two queries)."""
    incidents = list(
        db.session.scalars(
            visible_incidents(viewer)
            .where(Incident.project_id == project.id)
            .options(selectinload(Incident.steps))
            .order_by(Incident.detected_at.desc(), Incident.id.desc())
        )
    )
    manage = can_manage_project(viewer, project)
    if not incidents and not manage:
        return None  # nothing went wrong: clients see no empty block about incidents
    return {
        "project": project,
        "open": [i for i in incidents if i.is_open][:SECTION_LIMIT],
        "closed": sum(1 for i in incidents if not i.is_open),
        "manage": manage,
    }


# --- Opening and editing ----------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/incidents/new", methods=["GET", "POST"])
@staff_required
def create(project_id: int):
    """Open an incident on a project."""
    project = managed_project_or_404(current_user, project_id)
    form = IncidentForm(timezone_name=current_user.timezone)
    if (done := once.already_done(form)) is not None:
        return done
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committing(form, conflict=service.CHANGED_MEANWHILE, flash_errors=False) as saved:
                incident = service.open_incident(current_user, project, _incident_values(form))
                once.remember(form, url_for("incidents.show", incident_id=incident.id))
            if saved.ok:
                flash(_("The incident is open. Add the steps of the recovery plan next."), "success")
                return redirect(url_for("incidents.show", incident_id=incident.id))
            if (done := once.after_refusal(form, saved)) is not None:
                return done
            status = saved.status
    return render_template("incidents/form.html", form=form, project=project, incident=None), status


@bp.route("/incidents/<int:incident_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(incident_id: int):
    """Change an open incident's details: the cause once known, who is affected, the impact."""
    incident = managed_incident_or_404(current_user, incident_id)
    if not incident.is_open:
        flash(str(service.CLOSED), "info")
        return redirect(url_for("incidents.show", incident_id=incident.id))
    form = IncidentForm(timezone_name=current_user.timezone, obj=incident)
    status = 200
    if request.method == "GET":
        form.detected_at.data = _local(incident.detected_at)
        form.visibility.data = incident.visibility.value
    else:
        status = 422
        if form.validate_on_submit():
            with committing(form, conflict=service.CHANGED_MEANWHILE) as saved:
                changed = service.update_incident(current_user, incident, _incident_values(form))
            if saved.ok:
                flash(_("The incident is updated.") if changed else _("Nothing changed."), "success")
                return redirect(url_for("incidents.show", incident_id=incident.id))
            status = saved.status
    return render_template("incidents/form.html", form=form, project=incident.project, incident=incident), status


# --- The incident page ------------------------------------------------------------------------


def _events(incident: Incident) -> list[ActivityEvent]:
    """Return the incident's record, newest first (clients: none of the internal entries)."""
    query = (
        select(ActivityEvent)
        .where(ActivityEvent.object_type == "incident", ActivityEvent.object_id == incident.id, ActivityEvent.project_id == incident.project_id)
        .options(joinedload(ActivityEvent.actor))
        .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc())
    )
    if not current_user.is_staff:
        query = query.where(ActivityEvent.internal.is_(False))
    return list(db.session.scalars(query))


def _show_page(
    incident: Incident,
    *,
    step_form: StepForm | None = None,
    close_form: CloseForm | None = None,
    trust_form: TrustForm | None = None,
    status: int = 200,
):
    """Render the incident: its details, the plan with its steps, the client's answers and its record."""
    project = incident.project
    manage = can_manage_project(current_user, project)
    acceptance = service.latest_acceptance(incident)
    answer = service.trust_answer(incident) if not incident.is_open else None
    is_client = is_client_member(current_user, project) and incident.is_shared
    done = sum(1 for step in incident.steps if step.is_done)
    owners = service.step_owners(project) if manage and incident.is_open else []
    if step_form is None and manage and incident.is_open:
        step_form = StepForm(prefix="step", owners=owners, formdata=None, data={"owner": str(project.manager_id)})
    return (
        render_template(
            "incidents/show.html",
            project=project,
            incident=incident,
            steps=incident.steps,
            done=done,
            upcoming=next((s for s in incident.steps if not s.is_done), None),
            manage=manage,
            is_client=is_client,
            acceptance=acceptance,
            accepted_current=acceptance is not None and acceptance.plan_version >= incident.plan_version,
            changed_since=acceptance is not None and acceptance.plan_version < incident.plan_version,
            answer=answer,
            events=_events(incident),
            today=project_today(project),
            step_form=step_form,
            close_form=close_form or CloseForm(prefix="close"),
            trust_form=trust_form or TrustForm(prefix="trust"),
            verb_labels=verb_labels(),
        ),
        status,
    )


@bp.route("/incidents/<int:incident_id>")
@login_required
def show(incident_id: int):
    """Show an incident with its recovery plan."""
    return _show_page(incident_or_404(current_user, incident_id))


# --- The plan -----------------------------------------------------------------------------------


@bp.route("/incidents/<int:incident_id>/steps", methods=["POST"])
@staff_required
def add_step(incident_id: int):
    """Add a dated step to the recovery plan."""
    incident = managed_incident_or_404(current_user, incident_id)
    form = StepForm(prefix="step", owners=service.step_owners(incident.project))
    if (done := once.already_done(form)) is not None:
        return done
    status = 422
    if form.validate_on_submit():
        with committing(form, conflict=service.CHANGED_MEANWHILE, flash_errors=False) as saved:
            step = service.add_step(current_user, incident, title=form.title.data or "", due_on=form.due_on.data, owner=_owner(form))
            once.remember(form, url_for("incidents.show", incident_id=incident.id, _anchor=f"step-{step.id}"))
        if saved.ok:
            flash(_("The step is added to the plan."), "success")
            return redirect(url_for("incidents.show", incident_id=incident.id, _anchor=f"step-{step.id}"))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
        db.session.expire_all()
        incident = managed_incident_or_404(current_user, incident_id)
    return _show_page(incident, step_form=form, status=status)


@bp.route("/incidents/<int:incident_id>/steps/<int:step_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_step(incident_id: int, step_id: int):
    """Change a step of the plan that is not done yet."""
    incident = managed_incident_or_404(current_user, incident_id)
    step = step_or_404(incident, step_id)
    if not incident.is_open or step.is_done:
        flash(str(service.CLOSED) if not incident.is_open else _("This step is done: it stays as it was done."), "info")
        return redirect(url_for("incidents.show", incident_id=incident.id))
    owners = service.step_owners(incident.project)
    form = StepForm(owners=owners)
    status = 200
    if request.method == "GET":
        form.title.data = step.title
        form.due_on.data = step.due_on
        form.owner.data = CLIENT_OWNER if step.owner_is_client else str(step.owner_id)
    else:
        status = 422
        if form.validate_on_submit():
            with committing(form, conflict=service.CHANGED_MEANWHILE) as saved:
                changed = service.edit_step(current_user, step, title=form.title.data or "", due_on=form.due_on.data, owner=_owner(form))
            if saved.ok:
                flash(_("The step is changed: the client sees the plan changed.") if changed else _("Nothing changed."), "success")
                return redirect(url_for("incidents.show", incident_id=incident.id, _anchor=f"step-{step.id}"))
            status = saved.status
    return render_template("incidents/step_form.html", form=form, project=incident.project, incident=incident, step=step), status


@bp.route("/incidents/<int:incident_id>/steps/<int:step_id>/done", methods=["POST"])
@staff_required
def step_done(incident_id: int, step_id: int):
    """Mark a step of the plan done (the client is told when the incident is shared)."""
    incident = managed_incident_or_404(current_user, incident_id)
    step = step_or_404(incident, step_id)
    require_button_form()
    with committing(conflict=service.CHANGED_MEANWHILE) as saved:
        service.mark_step_done(current_user, step)
    if saved.ok:
        if incident.is_shared:
            flash(_("The step is marked done and the client has been told."), "success")
        else:
            flash(_("The step is marked done."), "success")
        return redirect(url_for("incidents.show", incident_id=incident.id, _anchor=f"step-{step.id}"))
    db.session.expire_all()
    return _show_page(managed_incident_or_404(current_user, incident_id), status=saved.status)


@bp.route("/incidents/<int:incident_id>/close", methods=["POST"])
@staff_required
def close(incident_id: int):
    """Close an incident whose plan is done, with a closing note."""
    incident = managed_incident_or_404(current_user, incident_id)
    form = CloseForm(prefix="close")
    status = 422
    if form.validate_on_submit():
        with committing(form, conflict=service.CHANGED_MEANWHILE) as saved:
            service.close_incident(current_user, incident, form.note.data or "")
        if saved.ok:
            flash(_("The incident is closed."), "success")
            return redirect(url_for("incidents.show", incident_id=incident.id))
        status = saved.status
        db.session.expire_all()
        incident = managed_incident_or_404(current_user, incident_id)
    return _show_page(incident, close_form=form, status=status)


# --- The client's answers -----------------------------------------------------------------------


@bp.route("/incidents/<int:incident_id>/accept", methods=["POST"])
@login_required
def accept(incident_id: int):
    """Accept the recovery plan as it is now (the client)."""
    incident = incident_or_404(current_user, incident_id)
    require_button_form()
    with committing(conflict=_("This plan is already accepted.")) as saved:
        service.accept_plan(current_user, incident)
    if saved.ok:
        flash(_("Thank you: your acceptance of the plan is recorded and the agency has been told."), "success")
        return redirect(url_for("incidents.show", incident_id=incident.id))
    db.session.expire_all()
    return _show_page(incident_or_404(current_user, incident_id), status=saved.status)


@bp.route("/incidents/<int:incident_id>/trust", methods=["POST"])
@login_required
def trust(incident_id: int):
    """Answer "is trust restored?" once the incident is closed (the client)."""
    incident = incident_or_404(current_user, incident_id)
    form = TrustForm(prefix="trust")
    status = 422
    if form.validate_on_submit():
        with committing(form, conflict=_("This question is already answered.")) as saved:
            restored = {"yes": True, "no": False}.get(form.restored.data or "")
            service.answer_trust(current_user, incident, restored=restored, note=form.note.data or "")
        if saved.ok:
            flash(_("Thank you: your answer is recorded and the agency has been told."), "success")
            return redirect(url_for("incidents.show", incident_id=incident.id))
        status = saved.status
        db.session.expire_all()
        incident = incident_or_404(current_user, incident_id)
    return _show_page(incident, trust_form=form, status=status)

