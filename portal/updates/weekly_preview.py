"""The weekly update, before it goes out (staff): its preview, and the manager's personal note."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import managed_project_or_404, staff_required
from portal.clients.queries import staff_profile
from portal.models import Project
from portal.timeutil import utcnow
from portal.updates import service
from portal.updates.forms import WeeklyNoteForm
from portal.updates.views import bp
from portal.web import committing


def _weekly_page(project: Project, form: WeeklyNoteForm | None = None, status: int = 200):
    """Render the coming weekly update with the note form (the saved note, unless a refused form is given)."""
    preview = service.preview_weekly(current_user, project, utcnow())
    if form is None:
        note = preview.note
        form = WeeklyNoteForm(
            formdata=None,
            body=note.body if note else "",
            note_id=note.id if note else None,
            version=note.version if note else None,
        )
    profile = staff_profile(current_user, project.client)
    return render_template("updates/weekly.html", project=project, preview=preview, form=form, client_profile=profile), status


@bp.route("/weekly")
@staff_required
def weekly_preview(project_id: int):
    """Preview the coming weekly update and add a personal note to it."""
    return _weekly_page(managed_project_or_404(current_user, project_id))


@bp.route("/weekly/note", methods=["POST"])
@staff_required
def weekly_note(project_id: int):
    """Save the personal note of the coming weekly update."""
    project = managed_project_or_404(current_user, project_id)
    form = WeeklyNoteForm()
    status = 422
    if form.validate_on_submit():
        with committing(form) as saved:
            note = service.save_weekly_note(current_user, project, form.body.data or "", note_id=form.note_id.data, version=form.version.data)
        if saved.ok:
            saved_text = _("Your note is saved: it goes out with the coming weekly update.") if note else _("No personal note goes with the coming update.")
            flash(saved_text, "success")
            return redirect(url_for("updates.weekly_preview", project_id=project.id))
        fresh = service.pending_note(project)
        # Keep what was typed, but point the form at the note as it is now.
        form.note_id.data = fresh.id if fresh else None
        form.version.data = fresh.version if fresh else None
        status = saved.status
    return _weekly_page(project, form, status)
