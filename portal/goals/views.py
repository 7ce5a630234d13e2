"""Goal charter pages: list, propose, read, counter-propose, sign, decline, answer, check in, close.

Views are thin: they load what the user may see (``portal.access``), call one
service function inside :func:`portal.web.committing` (one commit; a refusal becomes
a message and a 4xx), and read pages through :mod:`portal.goals.queries`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portal import once
from portal.access import (
    can_manage_project,
    goal_or_404,
    project_or_404,
    staff_required,
)
from portal.errors import Conflict
from portal.forms import EmptyForm
from portal.goals import queries, service
from portal.goals.chart import build_chart
from portal.goals.forms import (
    OUTCOME_LABELS,
    AssumptionAnswerForm,
    CheckInForm,
    CloseGoalForm,
    CommentForm,
    DeclineForm,
    ProposeGoalForm,
    ReviseGoalForm,
    SignForm,
    seen_revision,
)
from portal.goals.progress import goal_progress
from portal.goals.terms import Terms, assumption_changes, assumption_diff, changes
from portal.models import CloseOutcome, Goal, GoalAssumption, GoalClosure, Project, User
from portal.timeutil import project_today
from portal.web import Outcome, apply_domain_error, committing

bp = Blueprint("goals", __name__)


def _goal(goal_id: int) -> Goal:
    """Load a goal the current user may see, with what its page shows, else 404."""
    return queries.goal_page(goal_or_404(current_user, goal_id).id)


def _answer_form(assumption: GoalAssumption, formdata: Any = None) -> AssumptionAnswerForm:
    """Return the answer form of one assumption (each has its own prefix on the page)."""
    return AssumptionAnswerForm(formdata=formdata, prefix=f"assumption-{assumption.id}")


def _page(
    goal: Goal, status: int = 200, *, error: Any = None, refused: Outcome | None = None, **forms: Any
) -> tuple[str, int]:
    """Render the goal page; ``forms`` replaces the default (empty) form of that name, e.g. with errors.

    After a ``refused`` action the page answers with the refusal's status (403, 409, 422)
    and shows its message on the field of ``forms`` it names, else at the top of the page.
    """
    if refused is not None and refused.error is not None:
        status = refused.status
        targets = [f for value in forms.values() for f in (value.values() if isinstance(value, dict) else [value])]
        if not any(apply_domain_error(form, refused.error) for form in targets):
            error = refused.error.message
    project = goal.project
    side = service.side_of(current_user, project)
    today = project_today(project)
    current = goal.current_revision
    agreed = goal.agreed_revision
    measure = goal.terms.measure
    answer_forms = {a.id: _answer_form(a, formdata=None) for a in goal.active_assumptions}
    answer_forms.update(forms.pop("answer_forms", {}))
    context = {
        "goal": goal,
        "project": project,
        "side": side,
        "can_act": service.can_act(current_user, goal),
        "can_check_in": service.can_check_in(current_user, goal),
        "manage": can_manage_project(current_user, project),
        "current": current,
        "agreed": agreed,
        "today": today,
        "progress": goal_progress(goal, today),
        "chart": build_chart(agreed, goal.check_ins, today) if agreed else None,
        "approvers": service.client_signers(project),
        "waiting_for": queries.missing_sides(current) if goal.awaiting_signature else [],
        "pending_changes": changes(agreed, current) if goal.change_pending else [],
        "pending_assumptions": assumption_diff(goal, agreed.number, current.number) if agreed and goal.change_pending else ([], []),
        "decline_form": forms.pop("decline_form", None) or DeclineForm(formdata=None, prefix="decline", revision=goal.current_number),
        "answer_forms": answer_forms,
        "check_in_form": forms.pop("check_in_form", None)
        or CheckInForm(formdata=None, prefix="checkin", measure=measure, today=today, measured_on=today),
        "comment_form": forms.pop("comment_form", None) or CommentForm(formdata=None, prefix="comment"),
        "close_form": forms.pop("close_form", None)
        or CloseGoalForm(formdata=None, prefix="close", agreed=goal.agreed_number is not None),
        "error": error,
    }
    return render_template("goals/show.html", **context), status


def _to_goal(goal_id: int, message: str) -> Response:
    """Say what happened and go back to the goal page."""
    flash(message, "success")
    return redirect(url_for("goals.show", goal_id=goal_id))


# --- Lists ---------------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/goals")
@login_required
def index(project_id: int):
    """List a project's goals by status, with progress."""
    project = project_or_404(current_user, project_id)
    rows = queries.project_rows(project, project_today(project))
    return render_template(
        "goals/index.html",
        project=project,
        rows=rows,
        groups=queries.grouped(rows),
        can_propose=service.can_propose(current_user, project),
    )


# --- Proposing -----------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/goals/new", methods=["GET", "POST"])
@login_required
def create(project_id: int):
    """Propose a goal on a project."""
    project = project_or_404(current_user, project_id)
    if service.side_of(current_user, project) is None:
        abort(403)
    form = ProposeGoalForm(today=project_today(project))
    status = 422 if request.method == "POST" else 200
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        with committing(form, flash_errors=False) as saved:
            goal = service.propose_goal(current_user, project, form.terms())
            once.remember(form, url_for("goals.show", goal_id=goal.id))
        if saved.ok:
            return _to_goal(goal.id, _("Your proposal is sent. The goal is agreed once the other side signs it too."))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return render_template("goals/form.html", form=form, project=project, goal=None), status


@bp.route("/goals/<int:goal_id>/revise", methods=["GET", "POST"])
@login_required
def revise(goal_id: int):
    """Counter-propose: edit the terms into a new revision that both sides sign again."""
    goal = _goal(goal_id)
    if service.side_of(current_user, goal.project) is None:
        abort(403)
    if goal.state.is_closed:
        flash(_("This goal is closed: it can no longer change."), "warning")
        return redirect(url_for("goals.show", goal_id=goal.id))
    form = ReviseGoalForm(today=project_today(goal.project))
    if request.method == "GET":
        form.fill(Terms.of(goal.current_revision, [a.text for a in goal.active_assumptions]))
        form.revision.data = goal.current_number
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        with committing(form) as saved:
            revision = service.revise_goal(
                current_user, goal, form.terms(), seen=seen_revision(form.revision), note=form.note.data or ""
            )
        if saved.ok:
            return _to_goal(
                goal_id,
                _("Revision %(number)s is proposed. The other side signs it, counter-proposes or declines.", number=revision.number),
            )
        goal = _goal(goal_id)
        if isinstance(saved.error, Conflict):
            # Show the newer revision; what the user typed stays in the form for a deliberate resend.
            form.revision.raw_data = None
            form.revision.data = goal.current_number
        status = saved.status
    return render_template("goals/form.html", form=form, project=goal.project, goal=goal), status


# --- Reading -------------------------------------------------------------------------


@bp.route("/goals/<int:goal_id>")
@login_required
def show(goal_id: int):
    """Show a goal: terms in force, who still has to sign, assumptions, progress, conversation."""
    return _page(_goal(goal_id))


@bp.route("/goals/<int:goal_id>/history")
@login_required
def history(goal_id: int):
    """Show every revision: what changed, field by field, and who signed it when."""
    goal = _goal(goal_id)
    entries = []
    previous = None
    for revision in goal.revisions:
        entries.append(
            {
                "revision": revision,
                "changes": changes(previous, revision),
                "assumptions": assumption_changes(goal, revision.number),
            }
        )
        previous = revision
    return render_template("goals/history.html", goal=goal, project=goal.project, entries=list(reversed(entries)))


# --- Signing -------------------------------------------------------------------------


@bp.route("/goals/<int:goal_id>/sign", methods=["POST"])
@login_required
def sign(goal_id: int):
    """Agree to the current revision, for the signer's side."""
    goal = _goal(goal_id)
    form = SignForm()
    if not form.validate_on_submit():
        return _page(goal, 400, error=_("Reload the page and sign again: the form was incomplete."))
    with committing(flash_errors=False) as saved:
        signature = service.sign_revision(current_user, goal, seen=seen_revision(form.revision))
        revision = signature.revision  # read before the commit expires it
        agreed, number = revision.is_agreed, revision.number
    if not saved.ok:
        return _page(_goal(goal_id), refused=saved)
    if agreed:
        return _to_goal(goal_id, _("Revision %(number)s is agreed: both sides signed it.", number=number))
    return _to_goal(goal_id, _("You signed revision %(number)s. It is agreed once the other side signs too.", number=number))


@bp.route("/goals/<int:goal_id>/decline", methods=["POST"])
@login_required
def decline(goal_id: int):
    """Decline the other side's proposal, with a reason."""
    goal = _goal(goal_id)
    form = DeclineForm(prefix="decline")
    if not form.validate_on_submit():
        return _page(goal, 422, decline_form=form)
    with committing(flash_errors=False) as saved:
        revision = service.decline_revision(current_user, goal, seen=seen_revision(form.revision), reason=form.reason.data or "")
        number = revision.number
    if not saved.ok:
        return _page(_goal(goal_id), refused=saved, decline_form=form)
    return _to_goal(goal_id, _("You declined revision %(number)s. The other side is told why.", number=number))


# --- Assumptions ---------------------------------------------------------------------


@bp.route("/goals/<int:goal_id>/assumptions/<int:assumption_id>", methods=["POST"])
@login_required
def answer_assumption(goal_id: int, assumption_id: int):
    """Confirm or deny one of the other side's assumptions."""
    goal = _goal(goal_id)
    assumption = next((a for a in goal.assumptions if a.id == assumption_id), None)
    if assumption is None:
        abort(404)
    form = _answer_form(assumption, formdata=request.form)
    if not form.validate_on_submit():
        return _page(goal, 422, answer_forms={assumption.id: form})
    with committing(flash_errors=False) as saved:
        service.answer_assumption(
            current_user, assumption, confirmed=form.answer.data == "confirmed", note=form.note.data or ""
        )
    if not saved.ok:
        return _page(_goal(goal_id), refused=saved, answer_forms={assumption_id: form})
    return _to_goal(goal_id, _("Your answer is recorded."))


# --- Progress ------------------------------------------------------------------------


@bp.route("/goals/<int:goal_id>/check-ins", methods=["POST"])
@staff_required
def check_in(goal_id: int):
    """Record a check-in: the actual value (or done / not done) on a date."""
    goal = _goal(goal_id)
    today = project_today(goal.project)
    form = CheckInForm(prefix="checkin", measure=goal.terms.measure, today=today)
    if (done := once.already_done(form)) is not None:
        return done
    if not form.validate_on_submit():
        return _page(goal, 422, check_in_form=form)
    value = form.value.data if "value" in form else None
    done = (form.done.data == "yes") if "done" in form else None
    with committing(flash_errors=False) as saved:
        service.record_check_in(
            current_user, goal, measured_on=form.measured_on.data, value=value, done=done, note=form.note.data or "", today=today
        )
        once.remember(form, url_for("goals.show", goal_id=goal_id))
    if not saved.ok:
        if (twin := once.after_refusal(form, saved, show=False)) is not None:
            return twin
        return _page(_goal(goal_id), refused=saved, check_in_form=form)
    return _to_goal(goal_id, _("The check-in is recorded."))


# --- Conversation --------------------------------------------------------------------


@bp.route("/goals/<int:goal_id>/comments", methods=["POST"])
@login_required
def comment(goal_id: int):
    """Add a message to the goal's conversation."""
    goal = _goal(goal_id)
    form = CommentForm(prefix="comment")
    if (done := once.already_done(form)) is not None:
        return done
    if not form.validate_on_submit():
        return _page(goal, 422, comment_form=form)
    with committing(flash_errors=False) as saved:
        service.add_comment(current_user, goal, form.body.data or "")
        once.remember(form, url_for("goals.show", goal_id=goal_id, _anchor="conversation"))
    if not saved.ok:
        if (twin := once.after_refusal(form, saved, show=False)) is not None:
            return twin
        return _page(_goal(goal_id), refused=saved, comment_form=form)
    return redirect(url_for("goals.show", goal_id=goal_id, _anchor="conversation"))


# --- Closing -------------------------------------------------------------------------


@bp.route("/goals/<int:goal_id>/close", methods=["POST"])
@login_required
def close(goal_id: int):
    """Close the goal, or ask the other side to confirm closing it as missed or dropped."""
    goal = _goal(goal_id)
    form = CloseGoalForm(prefix="close", agreed=goal.agreed_number is not None)
    if not form.validate_on_submit():
        return _page(goal, 422, close_form=form)
    with committing(flash_errors=False) as saved:
        closure = service.close_goal(
            current_user,
            goal,
            outcome=CloseOutcome(form.outcome.data),
            reason=form.reason.data or "",
            impact=form.impact.data or "",
        )
        closed, outcome = goal.state.is_closed, closure.outcome
    if not saved.ok:
        return _page(_goal(goal_id), refused=saved, close_form=form)
    if closed:
        return _to_goal(goal_id, _("The goal is closed as %(outcome)s.", outcome=OUTCOME_LABELS[outcome]))
    return _to_goal(goal_id, _("Your request to close the goal is sent. It closes once the other side confirms."))


def _closure(goal: Goal, closure_id: int) -> GoalClosure:
    """Return the goal's closure request ``closure_id``, else 404."""
    closure = next((c for c in goal.closures if c.id == closure_id), None)
    if closure is None:
        abort(404)
    return closure


@bp.route("/goals/<int:goal_id>/closures/<int:closure_id>/confirm", methods=["POST"])
@login_required
def confirm_closure(goal_id: int, closure_id: int):
    """Confirm the other side's request to close the goal."""
    goal = _goal(goal_id)
    closure = _closure(goal, closure_id)
    if not EmptyForm().validate_on_submit():
        return _page(goal, 400, error=_("Reload the page and try again: the form was incomplete."))
    outcome = closure.outcome
    with committing(flash_errors=False) as saved:
        service.answer_closure(current_user, closure, accept=True)
    if not saved.ok:
        return _page(_goal(goal_id), refused=saved)
    return _to_goal(goal_id, _("The goal is closed as %(outcome)s.", outcome=OUTCOME_LABELS[outcome]))


@bp.route("/goals/<int:goal_id>/closures/<int:closure_id>/reject", methods=["POST"])
@login_required
def reject_closure(goal_id: int, closure_id: int):
    """Keep the goal open: refuse the other side's request to close it, or withdraw one's own."""
    goal = _goal(goal_id)
    closure = _closure(goal, closure_id)
    if not EmptyForm().validate_on_submit():
        return _page(goal, 400, error=_("Reload the page and try again: the form was incomplete."))
    with committing(flash_errors=False) as saved:
        service.answer_closure(current_user, closure, accept=False)
    if not saved.ok:
        return _page(_goal(goal_id), refused=saved)
    return _to_goal(goal_id, _("The goal stays open."))


# --- Blocks of other pages -------------------------------------------------------------


def project_goals(viewer: User, project: Project) -> dict[str, Any]:
    """Return the project page's Goals block: goals by status with progress, and unconfirmed assumptions."""
    rows = queries.project_rows(project, project_today(project))
    return {
        "project": project,
        "groups": queries.grouped(rows),
        "unconfirmed": sum(r.unconfirmed for r in rows if not r.goal.state.is_closed),
        "can_propose": service.can_propose(viewer, project),
    }
