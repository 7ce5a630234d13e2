"""Pinned review pages: a file with its pins, the rendered pages, pins and their replies, version compare.

Every route finds its objects through :mod:`portal.access` first (another organisation's
file or pin is a 404, and so is an internal pin for a client), then calls one service
function inside :func:`portal.web.committing`, which turns a refusal into a translated
message and a 4xx while keeping what was typed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import once
from portal.access import can_manage_project, deliverable_file_or_404, deliverable_or_404, deliverable_version_or_404, pin_or_404
from portal.extensions import db
from portal.ids import query_int
from portal.models.deliverables import Deliverable, DeliverableFile, DeliverableVersion, VersionStatus
from portal.models.pins import FilePreview, PinStatus, PreviewStatus, ReviewPin
from portal.pins import queries, service
from portal.pins.forms import CheckForm, PinForm, ReplyForm, SettleForm
from portal.pins.previews import is_pinnable
from portal.storage import ObjectNotFound, storage_for
from portal.storage.downloads import send_stored_file
from portal.web import committing

bp = Blueprint("pins", __name__)

PAGE_MAX_AGE = 3600  # a rendered page never changes (a new version is a new file)


def _pinnable_files(version: DeliverableVersion) -> list[DeliverableFile]:
    """Return the files of ``version`` that can carry pins, in their order."""
    return [f for f in version.files if is_pinnable(f)]


def review_page(
    file: DeliverableFile,
    *,
    form: PinForm | None = None,
    refused: tuple[int, ReplyForm | SettleForm] | None = None,
    status: int = 200,
) -> Any:
    """Render a file with its pins, the pin form for reviewers, and the list of pins as text.

    ``refused`` is a reply or a "won't do" that was refused: (pin id, the sent form), shown open
    under its pin with the message and what was typed.
    """
    version = file.version
    deliverable = version.deliverable
    project = deliverable.project
    manage = can_manage_project(current_user, project)
    pins = queries.pins_of_file(current_user, file)
    preview = queries.preview_of(file)
    return (
        render_template(
            "pins/review.html",
            file=file,
            version=version,
            deliverable=deliverable,
            project=project,
            preview=preview,
            pins=pins,
            pins_by_page=_by_page(pins),
            files=_pinnable_files(version),
            manage=manage,
            can_place=service.may_review(current_user, version),
            form=form or PinForm(prefix="pin"),
            # One form per pin, each with its own one-time key; never filled from this request's data.
            reply_forms={pin.id: ReplyForm(formdata=None, prefix="reply") for pin in pins}
            | ({refused[0]: refused[1]} if refused and isinstance(refused[1], ReplyForm) else {}),
            settle_forms={pin.id: SettleForm(formdata=None, prefix="settle") for pin in pins}
            | ({refused[0]: refused[1]} if refused and isinstance(refused[1], SettleForm) else {}),
            refused_pin=refused[0] if refused else None,
        ),
        status,
    )


def _by_page(pins: list[ReviewPin]) -> dict[int, list[ReviewPin]]:
    """Group the pins that point at a spot by page."""
    pages: dict[int, list[ReviewPin]] = {}
    for pin in pins:
        if pin.on_spot:
            pages.setdefault(pin.page, []).append(pin)
    return pages


@bp.route("/deliverables/files/<int:file_id>/review")
@login_required
def review(file_id: int):
    """Show a file to review with its pins."""
    file = deliverable_file_or_404(current_user, file_id)
    if not is_pinnable(file):
        abort(404)
    return review_page(file)


@bp.route("/deliverables/files/<int:file_id>/pages/<int:number>")
@login_required
def page_image(file_id: int, number: int):
    """Send one rendered page of a file (our own JPEG or PNG, so safe to show inline)."""
    file = deliverable_file_or_404(current_user, file_id)
    preview = queries.preview_of(file)
    page = next((p for p in preview.pages if p.number == number), None) if preview else None
    if page is None:
        abort(404)
    storage = storage_for(current_app)
    try:
        return send_stored_file(
            storage,
            page.storage_key,
            filename=f"page-{number}.{'png' if page.content_type == 'image/png' else 'jpg'}",
            content_type=page.content_type,
            etag=f"{file.sha256}-page-{number}",
            inline=True,
            max_age=PAGE_MAX_AGE,
        )
    except ObjectNotFound:
        abort(404)


@bp.route("/deliverables/files/<int:file_id>/preview-status")
@login_required
def preview_status(file_id: int):
    """Say whether the file's preview is ready (the review page asks while it is being prepared)."""
    file = deliverable_file_or_404(current_user, file_id)
    status = db.session.scalar(select(FilePreview.status).where(FilePreview.file_id == file.id))
    return jsonify(status=status.value if status else None)


@bp.route("/deliverables/files/<int:file_id>/pins", methods=["POST"])
@login_required
def place(file_id: int):
    """Place a pin on a file (reviewers), on a spot or on the whole file."""
    file = deliverable_file_or_404(current_user, file_id)
    if not is_pinnable(file):
        abort(404)
    form = PinForm(prefix="pin")
    if (done := once.already_done(form)) is not None:
        return done
    status = 422
    if form.validate_on_submit():
        with committing(form, flash_errors=False) as saved:
            pin = service.place(
                current_user,
                file,
                body=form.body.data,
                x=form.x.data,
                y=form.y.data,
                page=form.page.data or 1,
                internal=bool(form.internal.data),
            )
            target = url_for("pins.review", file_id=file.id, _anchor=f"pin-{pin.number}")
            once.remember(form, target)
        if saved.ok:
            flash(_("Pin %(number)s is placed. The agency sees it on this file.", number=pin.number), "success")
            return redirect(target)
        if (answer := once.after_refusal(form, saved)) is not None:
            return answer
        status = saved.status
        db.session.expire_all()
    return review_page(file, form=form, status=status)


def _back_to(pin: ReviewPin) -> str:
    """Return the review page of the pin's file, at the pin."""
    return url_for("pins.review", file_id=pin.file_id, _anchor=f"pin-{pin.number}")


@bp.route("/pins/<int:pin_id>/replies", methods=["POST"])
@login_required
def reply(pin_id: int):
    """Reply under a pin."""
    pin = pin_or_404(current_user, pin_id)
    form = ReplyForm(prefix="reply")
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        with committing(form) as saved:
            service.reply(current_user, pin, form.body.data)
            once.remember(form, _back_to(pin))
        if saved.ok:
            flash(_("Your reply to pin %(number)s is posted.", number=pin.number), "success")
            return redirect(_back_to(pin))
        if (answer := once.after_refusal(form, saved)) is not None:
            return answer
        db.session.expire_all()
        return review_page(pin.file, refused=(pin.id, form), status=saved.status)
    return review_page(pin.file, refused=(pin.id, form), status=422)


@bp.route("/pins/<int:pin_id>/settle", methods=["POST"])
@login_required
def settle(pin_id: int):
    """Staff: mark a pin resolved, "won't do" (with the reason) or open again."""
    pin = pin_or_404(current_user, pin_id)
    form = SettleForm(prefix="settle")
    if form.validate_on_submit():
        with committing(form) as saved:
            service.settle(current_user, pin, form.status.data or "", form.note.data)
        if saved.ok:
            words = {
                PinStatus.RESOLVED.value: _("Pin %(number)s is resolved.", number=pin.number),
                PinStatus.WONT_DO.value: _("Pin %(number)s is marked “won’t do”, with your reason.", number=pin.number),
                PinStatus.OPEN.value: _("Pin %(number)s is open again.", number=pin.number),
            }
            flash(words.get(form.status.data or "", ""), "success")
            return redirect(_back_to(pin))
        db.session.expire_all()
        return review_page(pin.file, refused=(pin.id, form), status=saved.status)
    flash(_("Choose what became of the pin."), "danger")
    return review_page(pin.file, refused=(pin.id, form), status=422)


@bp.route("/pins/<int:pin_id>/check", methods=["POST"])
@login_required
def check(pin_id: int):
    """Staff: say whether an earlier version's pin is addressed in the current version."""
    from portal.deliverables.views import show_page  # the deliverable page, where the check was made (imported late: it imports this module)

    pin = pin_or_404(current_user, pin_id)
    deliverable = pin.deliverable
    current = deliverable_version_or_404(current_user, deliverable.id, deliverable.current_number) if deliverable.current_number else None
    form = CheckForm()
    if current is None or not form.validate_on_submit():
        flash(_("Say whether the pin is addressed."), "danger")
        return show_page(deliverable, status=422)
    with committing(form) as saved:
        service.check(current_user, pin, current, addressed=form.addressed.data == "yes")
    if not saved.ok:
        db.session.expire_all()
        return show_page(deliverable, status=saved.status)
    if form.addressed.data == "yes":
        flash(_("Pin %(number)s is addressed in version %(version)s and resolved.", number=pin.number, version=current.number), "success")
    else:
        flash(_("Pin %(number)s is marked not yet addressed; it stays open.", number=pin.number), "success")
    return redirect(url_for("deliverables.show", deliverable_id=deliverable.id, _anchor="carried-pins"))


@bp.route("/deliverables/<int:deliverable_id>/compare")
@login_required
def compare(deliverable_id: int):
    """Show two submitted versions side by side, the earlier one with its pins (and an overlay for images of one size)."""
    deliverable = deliverable_or_404(current_user, deliverable_id)
    newest = deliverable.current_number
    if not newest or newest < 2:
        flash(_("There is only one version so far: nothing to compare yet."), "info")
        return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
    later_number = query_int("to", newest) or newest
    if not 2 <= later_number <= newest:
        later_number = newest
    earlier_number = query_int("from", later_number - 1) or later_number - 1
    if not 1 <= earlier_number < later_number:
        earlier_number = later_number - 1
    later = deliverable_version_or_404(current_user, deliverable.id, later_number)
    earlier = deliverable_version_or_404(current_user, deliverable.id, earlier_number)
    if VersionStatus.DRAFT in (later.status, earlier.status):
        abort(404)
    pairs = _pairs(_pinnable_files(earlier), _pinnable_files(later))
    previews = queries.previews_of([f for pair in pairs for f in pair if f is not None])
    earlier_pins = queries.pins_of_version(current_user, earlier)
    return render_template(
        "pins/compare.html",
        deliverable=deliverable,
        project=deliverable.project,
        earlier=earlier,
        later=later,
        numbers=[v.number for v in deliverable.versions if v.status is not VersionStatus.DRAFT],
        pairs=pairs,
        previews=previews,
        pins_by_file=_pins_by_file(earlier_pins),
        earlier_pins=earlier_pins,
        same_size=same_size,
    )


def _pairs(earlier: list[DeliverableFile], later: list[DeliverableFile]) -> list[tuple[DeliverableFile | None, DeliverableFile | None]]:
    """Match the files of two versions: same name first, then by position; what is left stands alone."""
    left = list(earlier)
    pairs: list[tuple[DeliverableFile | None, DeliverableFile | None]] = []
    unmatched: list[DeliverableFile] = []
    for file in later:
        same = next((f for f in left if f.original_name == file.original_name), None)
        if same is not None:
            left.remove(same)
            pairs.append((same, file))
        else:
            unmatched.append(file)
    for file in unmatched:
        pairs.append((left.pop(0) if left else None, file))
    pairs.extend((f, None) for f in left)
    return pairs


def _pins_by_file(pins: list[ReviewPin]) -> dict[int, dict[int, list[ReviewPin]]]:
    """Group spot pins by file and page."""
    result: dict[int, dict[int, list[ReviewPin]]] = {}
    for pin in pins:
        if pin.on_spot:
            result.setdefault(pin.file_id, {}).setdefault(pin.page, []).append(pin)
    return result


def same_size(left: FilePreview | None, right: FilePreview | None) -> bool:
    """Tell whether two ready one-page previews have the same size (the overlay slider makes sense)."""
    return bool(
        left is not None
        and right is not None
        and left.status is PreviewStatus.READY
        and right.status is PreviewStatus.READY
        and len(left.pages) == len(right.pages) == 1
        and (left.pages[0].width, left.pages[0].height) == (right.pages[0].width, right.pages[0].height)
    )


def pin_context(deliverable: Deliverable, current: DeliverableVersion | None) -> dict[str, Any]:
    """What the deliverable page shows of pins: files to open with pins, open pins to send with a request, carried pins, history."""
    files = _pinnable_files(current) if current is not None else []
    if not queries.has_pins(deliverable):  # most deliverables: one statement instead of five
        return {"pin_files": files, "pin_counts": {}, "request_pins": [], "carried_pins": [], "pin_checks": {}, "decision_pins": {}, "check_form": None}
    return {
        "pin_files": files,
        "pin_counts": queries.open_counts_by_file(current_user, [f.id for f in files]),
        "request_pins": queries.open_pins(current_user, current) if current is not None and current.status is VersionStatus.IN_REVIEW else [],
        "carried_pins": queries.carried_over(current_user, deliverable, current),
        "pin_checks": queries.checks_by_version(current_user, deliverable),
        "decision_pins": queries.decision_pins(current_user, deliverable),
        "check_form": CheckForm(formdata=None),
    }


def request_pin_ids() -> list[int]:
    """Return the pin ids a request for changes was sent with (ignoring garbage)."""
    ids = []
    for raw in request.form.getlist("changes-pins"):
        try:
            value = int(raw)
        except ValueError:
            continue
        if 0 < value < 2**31:
            ids.append(value)
    return ids
