"""The "Expectation vs reality" page of a project: the log, newest first, and the chart."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import once
from portal.access import (
    can_manage_project,
    expectation_note_or_404,
    managed_project_or_404,
    project_or_404,
    staff_required,
)
from portal.expectations import queries, service
from portal.expectations.chart import chart_points, layout_chart
from portal.expectations.forms import ExpectationNoteForm
from portal.ids import query_int
from portal.models import Project, User
from portal.web import committing

bp = Blueprint("expectations", __name__, url_prefix="/projects/<int:project_id>/expectations")

PAGE_SIZE = 20
CHART_WEEKS = 26
ON_PROJECT_PAGE = 3


def expectations_section(viewer: User, project: Project) -> dict[str, Any]:
    """Show the latest entries of the expectation-vs-reality log on the project page."""
    notes = queries.latest_notes(viewer, project, ON_PROJECT_PAGE)
    return {"project": project, "notes": notes, "manage": can_manage_project(viewer, project)}


@bp.route("/")
@login_required
def index(project_id: int):
    """Show the log newest first (clients: shared notes only) and the chart of expected against actual."""
    project = project_or_404(current_user, project_id)
    page = max(query_int("page", 1) or 1, 1)
    log = queries.note_log(current_user, project, page=page, size=PAGE_SIZE, weeks=CHART_WEEKS)
    points = chart_points(log.weekly_notes)
    return render_template(
        "expectations/index.html",
        project=project,
        notes=log.notes,
        more=log.more,
        page=page,
        total=log.total,
        points=points,
        chart=layout_chart(points),
        manage=can_manage_project(current_user, project),
    )


def _values(form: ExpectationNoteForm) -> dict[str, Any]:
    """Return the note fields the form carries."""
    return {name: getattr(form, name).data for name in service.NOTE_FIELDS}


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def create(project_id: int):
    """Write a note on what was expected against what happened."""
    project = managed_project_or_404(current_user, project_id)
    form = ExpectationNoteForm()
    status = 422 if request.method == "POST" else 200
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        with committing(form, flash_errors=False) as saved:
            note = service.create_note(current_user, project, _values(form))
            once.remember(form, url_for("expectations.index", project_id=project.id, _anchor=f"note-{note.id}"))
        if saved.ok:
            flash(_("The note is added to the log."), "success")
            return redirect(url_for("expectations.index", project_id=project.id, _anchor=f"note-{note.id}"))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return render_template("expectations/form.html", project=project, form=form, note=None), status


@bp.route("/<int:note_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(project_id: int, note_id: int):
    """Change a staff note (shared bad news stays shared and stays bad)."""
    project = managed_project_or_404(current_user, project_id)
    note = expectation_note_or_404(current_user, project.id, note_id)
    if note.is_weekly:
        abort(404)  # the weekly run's notes are a record; there is no form for them
    form = ExpectationNoteForm(obj=note)
    if request.method == "GET":
        form.assessment.data = note.assessment.value if note.assessment else None
        form.visibility.data = note.visibility.value
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        with committing(form) as saved:
            service.update_note(current_user, note, _values(form))
        if saved.ok:
            flash(_("The note is saved."), "success")
            return redirect(url_for("expectations.index", project_id=project.id, _anchor=f"note-{note.id}"))
        status = saved.status
    return render_template("expectations/form.html", project=project, form=form, note=note), status

