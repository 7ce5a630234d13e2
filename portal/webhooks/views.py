"""Admins' webhook pages: the list, a hook with its recent deliveries, and the buttons that change them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import once
from portal.access import admin_required
from portal.forms import EmptyForm
from portal.models import DeliveryStatus, Webhook, WebhookDelivery
from portal.web import committing, require_button_form
from portal.webhooks import queries, service
from portal.webhooks.events import EVENTS
from portal.webhooks.forms import HookForm, NewHookForm
from portal.webhooks.sender import can_requeue, requeue, retry_until, retry_window

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


def _hook_or_404(hook_id: int) -> Webhook:
    """Return the webhook ``hook_id``, else abort with 404."""
    hook = queries.hook(hook_id)
    if hook is None:
        abort(404)
    return hook


def _delivery_or_404(delivery_id: int) -> WebhookDelivery:
    """Return the delivery ``delivery_id``, else abort with 404."""
    delivery = queries.delivery(delivery_id)
    if delivery is None:
        abort(404)
    return delivery


@bp.route("/")
@admin_required
def index():
    """List the webhooks with how their deliveries stand."""
    return render_template("webhooks/index.html", hooks=queries.hooks(), counts=queries.status_counts(), events=EVENTS, statuses=DeliveryStatus)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    """Register a webhook; its secret is shown once, on the page that answers."""
    form = NewHookForm()
    status = 422 if request.method == "POST" else 200
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        with committing(form) as saved:
            hook = service.create_hook(current_user, name=form.name.data or "", url=form.url.data or "", events=form.events.data or [])
            once.remember(form, url_for("webhooks.show", hook_id=hook.id))
        if saved.ok:
            return _hook_page(hook, secret=hook.secret, status=201)
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return render_template("webhooks/form.html", form=form, hook=None), status


@bp.route("/<int:hook_id>")
@admin_required
def show(hook_id: int):
    """Show a webhook and its recent deliveries."""
    return _hook_page(_hook_or_404(hook_id))


def _hook_page(hook: Webhook, *, secret: str | None = None, status: int = 200) -> tuple[str, int]:
    """Render a webhook's page (with its secret right after it was made or rotated; a refusal with its 4xx)."""
    window = retry_window()
    return render_template(
        "webhooks/show.html",
        hook=hook,
        secret=secret,
        deliveries=queries.recent_deliveries(hook.id),
        events=EVENTS,
        retry_until=retry_until,
        retry_hours=round(window.total_seconds() / 3600),
        can_retry=can_requeue,
        action_form=EmptyForm(),
    ), status


@bp.route("/<int:hook_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(hook_id: int):
    """Change a webhook's name, address or events."""
    hook = _hook_or_404(hook_id)
    form = HookForm(obj=hook) if request.method == "GET" else HookForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        with committing(form) as saved:
            service.update_hook(current_user, hook, name=form.name.data or "", url=form.url.data or "", events=form.events.data or [])
        if saved.ok:
            flash(_("The webhook is saved."), "success")
            return redirect(url_for("webhooks.show", hook_id=hook.id))
        status = saved.status
    return render_template("webhooks/form.html", form=form, hook=hook), status


@bp.route("/<int:hook_id>/pause", methods=["POST"])
@admin_required
def pause(hook_id: int):
    """Pause a webhook: nothing new is queued for it, and what is queued waits."""
    return _set_active(hook_id, False)


@bp.route("/<int:hook_id>/resume", methods=["POST"])
@admin_required
def resume(hook_id: int):
    """Resume a paused webhook: what waited goes out, and new events are queued again."""
    return _set_active(hook_id, True)


def _set_active(hook_id: int, active: bool):
    hook = _hook_or_404(hook_id)
    require_button_form()
    with committing() as saved:
        service.set_active(current_user, hook, active)
    if not saved.ok:
        return _hook_page(hook, status=saved.status)
    flash(_("The webhook is active again.") if active else _("The webhook is paused: events that happen now are not sent to it."), "success")
    return redirect(url_for("webhooks.show", hook_id=hook.id))


@bp.route("/<int:hook_id>/rotate", methods=["POST"])
@admin_required
def rotate(hook_id: int):
    """Give a webhook a new secret, shown once on the page that answers."""
    hook = _hook_or_404(hook_id)
    require_button_form()
    with committing() as saved:
        secret = service.rotate_secret(current_user, hook)
    if not saved.ok:
        return _hook_page(hook, status=saved.status)
    return _hook_page(hook, secret=secret)


@bp.route("/<int:hook_id>/delete", methods=["POST"])
@admin_required
def delete(hook_id: int):
    """Delete a webhook and its deliveries."""
    hook = _hook_or_404(hook_id)
    require_button_form()
    name = hook.name
    with committing() as saved:
        service.delete_hook(current_user, hook)
    if not saved.ok:
        return _hook_page(hook, status=saved.status)
    flash(_("The webhook %(name)s is deleted.", name=name), "success")
    return redirect(url_for("webhooks.index"))


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
@admin_required
def retry(delivery_id: int):
    """Send a failed delivery again (same delivery id, a new signature and a new retry window)."""
    delivery = _delivery_or_404(delivery_id)
    require_button_form()
    if not can_requeue(delivery):  # delivered or queued again meanwhile: the page shows where it stands
        flash(_("This delivery is not failed: there is nothing to send again."), "warning")
        return _hook_page(delivery.webhook, status=409)
    with committing() as saved:
        requeue(delivery)
    if not saved.ok:
        return _hook_page(delivery.webhook, status=saved.status)
    flash(_("The delivery is queued again; it goes out within a minute."), "success")
    return redirect(url_for("webhooks.show", hook_id=delivery.webhook_id))
