"""Who may open what: every route for every kind of visitor, and the links each one sees.

Another organisation's object answers 404 (its existence is not revealed), a page
for another role answers 403, and a visitor who is not logged in is sent to the
login page. The matrix lists every route; a route added without a row fails
``test_every_route_has_a_matrix_row``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.auth import service as auth_service
from portal.extensions import db
from portal.models import ActivityEvent, EmailStatus, OutboxEmail, ProjectMember, Role, TokenPurpose
from portal.timeutil import project_today, utcnow
from tests.fixtures.builders import PASSWORD

ROLES = ("anonymous", "other_client", "own_client", "manager", "other_manager", "admin")

LOGIN = "/login"  # redirected to the login page
HOME = "/"  # redirected to the home page
DONE = "done"  # the action succeeded and the browser moves on (anywhere but the login page)

NEW_PASSWORD = "a brand new passphrase"


class Scene:
    """The world of conftest, and the objects some routes act on, made when a row needs them.

    Used as the mapping for ``url.format_map``: each placeholder is looked up as it is
    needed, so a single-use object (an invitation link, a membership to remove) is made
    afresh for each visitor and one visitor's success does not spoil the next one's.
    """

    def __init__(self, world: Any, make_user: Callable[..., Any]) -> None:
        self.world = world
        self._make_user = make_user
        self._made = 0
        self._cache: dict[str, int] = {}

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)()

    def _person(self, **values: Any):
        self._made += 1
        return self._make_user(Role.CLIENT, self.world.own_org, email=f"person{self._made}@example.com", **values)

    def own_org(self) -> int:
        return self.world.own_org.id

    def project(self) -> int:
        return self.world.project.id

    def person(self) -> int:
        """A member of staff the admin pages act on."""
        return self.world.manager.id

    def colleague(self) -> int:
        """A person of the project's organisation who is not a member yet."""
        return self._person(name="Deniz Colleague").id

    def member(self) -> int:
        """A fresh membership of the project."""
        member = ProjectMember(project=self.world.project, user=self._person(name="Member"), is_approver=True)
        db.session.add(member)
        db.session.commit()
        return member.id

    def invitee(self) -> int:
        """Someone invited who has not joined yet."""
        if "invitee" not in self._cache:
            self._cache["invitee"] = self._person(name="Invited Person", password_hash=None).id
        return self._cache["invitee"]

    def invite_token(self) -> str:
        """A fresh invitation link's token."""
        invitee = self._person(name="Invited Person", password_hash=None)
        _, raw = auth_service.issue_token(invitee, TokenPurpose.INVITE, actor=self.world.admin)
        db.session.commit()
        return raw

    def reset_token(self) -> str:
        """A fresh password reset link's token for the client user."""
        _, raw = auth_service.issue_token(self.world.own_client, TokenPurpose.RESET)
        db.session.commit()
        return raw

    def email(self) -> int:
        """An email that failed for good."""
        if "email" not in self._cache:
            email = OutboxEmail(
                idempotency_key="matrix:dead",
                user_id=self.world.own_client.id,
                to_address=self.world.own_client.email,
                subject="Weekly update",
                text_body="Hello",
                status=EmailStatus.DEAD,
                attempts=8,
                next_attempt_at=utcnow(),
            )
            db.session.add(email)
            db.session.commit()
            self._cache["email"] = email.id
        return self._cache["email"]

    def _asset_request(self, with_file: bool):
        """Make an asset request (and an uploaded image) directly, without activity events of their own."""
        import io

        from flask import current_app

        from portal.models import AssetFile, AssetRequest, AssetRequestStatus, ReviewState
        from portal.storage import storage_for
        from portal.storage.images import inspect_image
        from tests.integration.asset_helpers import png_bytes

        status = AssetRequestStatus.SUBMITTED if with_file else AssetRequestStatus.OPEN
        asset_request = AssetRequest(project=self.world.project, created_by=self.world.manager, title="Logo", kinds=["images"], status=status)
        db.session.add(asset_request)
        if with_file:
            storage = storage_for(current_app)
            stored = storage.save(io.BytesIO(png_bytes()), "assets")
            thumbnail = inspect_image(storage, stored.key, "PNG", thumbnail_prefix="assets").thumbnail
            db.session.add(
                AssetFile(
                    project=self.world.project,
                    request=asset_request,
                    version=1,
                    original_name="logo.png",
                    extension="png",
                    content_type="image/png",
                    size=stored.size,
                    sha256=stored.sha256,
                    storage_key=stored.key,
                    thumbnail_key=thumbnail.key if thumbnail else None,
                    uploaded_by=self.world.own_client,
                    review_state=ReviewState.PENDING,
                )
            )
        db.session.commit()
        return asset_request

    def asset_request(self) -> int:
        """An asset request on the project, with an uploaded image (shared by the visitors)."""
        if "asset_request" not in self._cache:
            asset_request = self._asset_request(with_file=True)
            self._cache["asset_request"] = asset_request.id
            self._cache["asset_file"] = asset_request.files[0].id
        return self._cache["asset_request"]

    def asset_file(self) -> int:
        """The image uploaded to the shared asset request."""
        self.asset_request()
        return self._cache["asset_file"]

    def open_request(self) -> int:
        """A fresh asset request waiting for the client (to cancel)."""
        return self._asset_request(with_file=False).id

    def submitted_request(self) -> int:
        """A fresh asset request with a version waiting for review (to accept or return)."""
        return self._asset_request(with_file=True).id


    # Goals: rows written directly (no activity events), so a refused visitor's check sees no change.

    def _goal(self, proposer: str = "manager", *, agreed: bool = False, closing: bool = False):
        from datetime import timedelta
        from decimal import Decimal

        from portal.models import (
            CloseOutcome,
            ClosureStatus,
            Goal,
            GoalAssumption,
            GoalClosure,
            GoalRevision,
            GoalSignature,
            GoalState,
            MeasureKind,
            Side,
        )

        side = Side.AGENCY if proposer == "manager" else Side.CLIENT
        author = getattr(self.world, proposer)
        goal = Goal(project=self.world.project, created_by=author, current_number=1, version=1, state=GoalState.PROPOSED)
        revision = GoalRevision(
            goal=goal, number=1, title="More online orders", measure=MeasureKind.METRIC, metric_name="Orders",
            baseline=Decimal(120), target=Decimal(200), unit="orders", target_date=project_today(self.world.project) + timedelta(days=90),
            proposed_by=author, side=side,
        )
        signatures = [GoalSignature(revision=revision, side=side, user=author, implied=True, signed_at=utcnow())]
        if agreed or closing:
            other = self.world.own_client if side is Side.AGENCY else self.world.manager
            signatures.append(GoalSignature(revision=revision, side=side.other, user=other, signed_at=utcnow()))
            revision.agreed_at, revision.agreed_on = utcnow(), project_today(self.world.project)
            goal.state, goal.agreed_number = GoalState.AGREED, 1
        assumption = GoalAssumption(goal=goal, text="Photos arrive in March", side=side, added_in=1)
        db.session.add_all([goal, revision, *signatures, assumption])
        if closing:
            closure = GoalClosure(
                goal=goal, outcome=CloseOutcome.MISSED, reason="Supplier failed", impact="Later launch",
                side=Side.AGENCY, proposed_by=self.world.manager, status=ClosureStatus.PENDING,
            )
            db.session.add(closure)
        db.session.commit()
        self._cache["assumption"] = assumption.id
        if closing:
            self._cache["closure"] = closure.id
        return goal

    def goal(self) -> int:
        """A goal the manager proposed, shared by the visitors (for reading and writing in its conversation)."""
        if "goal" not in self._cache:
            self._cache["goal"] = self._goal().id
        return self._cache["goal"]

    def agency_goal(self) -> int:
        """A fresh goal proposed by the agency: the client's turn to sign or decline."""
        return self._goal("manager").id

    def client_goal(self) -> int:
        """A fresh goal proposed by the client approver: the agency's turn to sign."""
        return self._goal("own_client").id

    def agreed_goal(self) -> int:
        """A fresh goal both sides signed (for check-ins and closing)."""
        return self._goal(agreed=True).id

    def assumption(self) -> int:
        """The assumption of the goal made just before it in the URL."""
        return self._cache["assumption"]

    def closing_goal(self) -> int:
        """A fresh agreed goal the manager asks to close as missed."""
        return self._goal(closing=True).id

    def closure(self) -> int:
        """The request to close the goal made just before it in the URL."""
        return self._cache["closure"]

    # Progress updates and expectation notes (issue 6): rows written directly, without activity events.

    def _update(self, *, published: bool):
        from portal.models import Update, UpdateStatus

        update = Update(
            project=self.world.project,
            author=self.world.manager,
            title="Sprint 3",
            body="Checkout is live.",
            status=UpdateStatus.PUBLISHED if published else UpdateStatus.DRAFT,
            published_at=utcnow() if published else None,
        )
        db.session.add(update)
        db.session.commit()
        return update

    def update(self) -> int:
        """A published update of the project (shared by the visitors)."""
        if "update" not in self._cache:
            self._cache["update"] = self._update(published=True).id
        return self._cache["update"]

    def kept_draft(self) -> int:
        """A draft update (shared by the visitors: reading and editing keep it a draft)."""
        if "kept_draft" not in self._cache:
            self._cache["kept_draft"] = self._update(published=False).id
        return self._cache["kept_draft"]

    def draft(self) -> int:
        """A fresh draft update (to publish or delete)."""
        return self._update(published=False).id

    def _update_attachment(self, update_id: int) -> int:
        """Attach a stored image (with its preview) to an update, directly: no activity event of its own."""
        import io

        from flask import current_app

        from portal.models import UpdateAttachment
        from portal.storage import storage_for
        from portal.storage.images import inspect_image
        from tests.integration.asset_helpers import png_bytes

        storage = storage_for(current_app)
        stored = storage.save(io.BytesIO(png_bytes()), "updates")
        thumbnail = inspect_image(storage, stored.key, "PNG", thumbnail_prefix="updates").thumbnail
        attachment = UpdateAttachment(
            update_id=update_id, original_name="wireframe.png", extension="png", content_type="image/png",
            size=stored.size, sha256=stored.sha256, storage_key=stored.key,
            thumbnail_key=thumbnail.key if thumbnail else None, uploaded_by=self.world.manager,
        )
        db.session.add(attachment)
        db.session.commit()
        return attachment.id

    def attachment(self) -> int:
        """An image attached to the published update (shared by the visitors)."""
        if "attachment" not in self._cache:
            self._cache["attachment"] = self._update_attachment(self.update())
        return self._cache["attachment"]

    def draft_attachment(self) -> int:
        """An image attached to the kept draft (shared by the visitors)."""
        if "draft_attachment" not in self._cache:
            self._cache["draft_attachment"] = self._update_attachment(self.kept_draft())
        return self._cache["draft_attachment"]

    def fresh_attachment(self) -> int:
        """A fresh image on the published update (to remove)."""
        return self._update_attachment(self.update())

    def xnote(self) -> int:
        """A staff expectation note shared with the client (shared by the visitors)."""
        if "xnote" not in self._cache:
            from portal.models import Assessment, ExpectationNote, Visibility

            note = ExpectationNote(
                project=self.world.project, author=self.world.manager, expected="Live by May", reality="Live in June",
                assessment=Assessment.WORSE, impact="Later campaign", visibility=Visibility.SHARED,
            )
            db.session.add(note)
            db.session.commit()
            self._cache["xnote"] = note.id
        return self._cache["xnote"]

    # Deliverable review (issue 5): rows written directly, without activity events.

    def _deliverable(self, *, status: str = "in_review", draft: bool = False):
        """Make a deliverable with version 1 (an image) in review or approved, and optionally a draft of version 2."""
        import io

        from flask import current_app

        from portal.models.deliverables import (
            Decision,
            DecisionOutcome,
            Deliverable,
            DeliverableFile,
            DeliverableStatus,
            DeliverableVersion,
            VersionStatus,
        )
        from portal.storage import storage_for
        from portal.storage.images import inspect_image
        from tests.integration.asset_helpers import png_bytes

        storage = storage_for(current_app)
        deliverable = Deliverable(
            project=self.world.project, title="Homepage design", included_rounds=2, created_by=self.world.manager, lock_version=1,
            status=DeliverableStatus.APPROVED if status == "approved" else DeliverableStatus.IN_REVIEW, current_number=1,
        )
        version = DeliverableVersion(
            deliverable=deliverable, number=1, created_by=self.world.manager, submitted_by=self.world.manager, submitted_at=utcnow(),
            status=VersionStatus.APPROVED if status == "approved" else VersionStatus.IN_REVIEW,
        )
        stored = storage.save(io.BytesIO(png_bytes()), "deliverables")
        thumbnail = inspect_image(storage, stored.key, "PNG", thumbnail_prefix="deliverables").thumbnail
        shown = DeliverableFile(
            version=version, original_name="mock-up.png", extension="png", content_type="image/png", size=stored.size,
            sha256=stored.sha256, storage_key=stored.key, thumbnail_key=thumbnail.key if thumbnail else None, uploaded_by=self.world.manager,
        )
        db.session.add_all([deliverable, version, shown])
        if status == "approved":
            db.session.add(Decision(deliverable=deliverable, version=version, approver=self.world.own_client, outcome=DecisionOutcome.APPROVE))
        if draft:
            next_version = DeliverableVersion(deliverable=deliverable, number=2, created_by=self.world.manager, status=VersionStatus.DRAFT)
            stored = storage.save(io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "deliverables")
            draft_file = DeliverableFile(
                version=next_version, original_name="v2.pdf", extension="pdf", content_type="application/pdf", size=stored.size,
                sha256=stored.sha256, storage_key=stored.key, uploaded_by=self.world.manager,
            )
            db.session.add_all([next_version, draft_file])
        db.session.commit()
        self._cache["deliverable_draft_file"] = draft_file.id if draft else 0
        return deliverable, shown

    def deliverable(self) -> int:
        """A deliverable with version 1 (an image) in review, shared by the visitors (for reading, editing, commenting)."""
        if "deliverable" not in self._cache:
            deliverable, shown = self._deliverable()
            self._cache["deliverable"], self._cache["deliverable_file"] = deliverable.id, shown.id
        return self._cache["deliverable"]

    def deliverable_file(self) -> int:
        """The image of the shared deliverable's version 1."""
        self.deliverable()
        return self._cache["deliverable_file"]

    def review_deliverable(self) -> int:
        """A fresh deliverable whose version 1 waits for a decision."""
        return self._deliverable()[0].id

    def approved_deliverable(self) -> int:
        """A fresh approved deliverable (to reopen)."""
        return self._deliverable(status="approved")[0].id

    def drafted_deliverable(self) -> int:
        """A fresh deliverable with version 2 in preparation, holding one file."""
        return self._deliverable(draft=True)[0].id

    def deliverable_draft_file(self) -> int:
        """The file of the draft made just before it in the URL."""
        return self._cache["deliverable_draft_file"]


@pytest.fixture
def scene(world, make_user) -> Scene:
    """Return the world, ready to make what each route acts on."""
    return Scene(world, make_user)


# --- What each form sends when the visitor is allowed to use it ----------------------


def login_form(s: Scene) -> dict:
    return {"email": s.world.own_client.email, "password": PASSWORD}


def new_account(s: Scene) -> dict:
    return {"name": "Invited Person", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def new_password(s: Scene) -> dict:
    return {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def forgot(s: Scene) -> dict:
    return {"email": s.world.own_client.email}


def language(s: Scene) -> dict:
    return {"language": "tr", "next": "/"}


def profile(s: Scene) -> dict:
    return {"profile-name": "A New Name", "profile-language": "en", "profile-timezone": "Europe/Istanbul"}


def password_change(s: Scene) -> dict:
    return {"password-current_password": PASSWORD, "password-password": NEW_PASSWORD, "password-confirm": NEW_PASSWORD}


def client_profile(s: Scene) -> dict:
    return {"name": "Anadolu Kahve", "preferred_channel": "phone", "language": "tr", "timezone": "Europe/Istanbul"}


def client_invite(s: Scene) -> dict:
    return {"name": "Selin New", "email": "selin@example.com", "language": "tr"}


def project_settings(s: Scene) -> dict:
    return {
        "name": "E-commerce relaunch",
        "client_id": s.own_org(),
        "manager_id": s.world.manager.id,
        "status": "active",
        "weekly_weekday": "0",
        "weekly_hour": "9",
        "timezone": "Europe/Istanbul",
        "approval_rule": "any",
        "included_rounds": "2",
    }


def new_project(s: Scene) -> dict:
    return {**project_settings(s), "name": "Brand book"}


def add_colleague(s: Scene) -> dict:
    return {"member-user_id": s.colleague(), "member-is_approver": "y"}


def staff_invite(s: Scene) -> dict:
    return {
        "invite-name": "Mert Staff",
        "invite-email": "mert@example.com",
        "invite-role": "manager",
        "invite-client_id": "0",
        "invite-language": "en",
    }


def asset_request_form(s: Scene) -> dict:
    return {"title": "Logo", "kinds": ["images"], "required": "y"}


def asset_upload(s: Scene) -> dict:
    import io

    from tests.integration.asset_helpers import png_bytes

    return {"files": (io.BytesIO(png_bytes()), "logo.png")}


def return_note(s: Scene) -> dict:
    return {"note": "The logo must be a vector file"}


def goal_form(s: Scene) -> dict:
    from datetime import timedelta

    return {
        "title": "More newsletter sign-ups",
        "measure": "metric",
        "metric_name": "Sign-ups per month",
        "baseline": "40",
        "target": "90",
        "unit": "count",
        "target_date": (project_today(s.world.project) + timedelta(days=60)).isoformat(),
        "assumptions": "The client approves the pop-up design",
    }


def goal_counter(s: Scene) -> dict:
    return {**goal_form(s), "title": "More online orders", "revision": "1", "note": "Aim lower"}


def goal_check_in(s: Scene) -> dict:
    return {"checkin-measured_on": project_today(s.world.project).isoformat(), "checkin-value": "130"}


def goal_decline(s: Scene) -> dict:
    """Return a filled-in form declining the goal's first revision."""
    return {"decline-revision": "1", "decline-reason": "Not now"}


def assumption_answer(s: Scene) -> dict:
    return {f"assumption-{s.assumption()}-answer": "confirmed"}


def update_form(s: Scene) -> dict:
    return {"title": "Sprint 4", "body": "Search is live.", "action": "publish"}


def draft_form(s: Scene) -> dict:
    return {"title": "Sprint 4 (draft)", "body": "Search is almost live.", "action": "draft"}


def update_files(s: Scene) -> dict:
    import io

    return {"files": [(io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "minutes.pdf")]}


def update_form_with_files(s: Scene) -> dict:
    return {**update_form(s), **update_files(s)}


def draft_form_with_files(s: Scene) -> dict:
    return {**draft_form(s), **update_files(s)}


def comment_form(s: Scene) -> dict:
    return {"body": "Thanks for the update."}


def concern_form(s: Scene) -> dict:
    return {"choice": "concern", "comment": "The launch date worries us."}


def weekly_note_form(s: Scene) -> dict:
    from portal.updates.service import pending_note

    note = pending_note(s.world.project)  # the note as the form would show it now
    return {"body": "Thank you for the quick answers.", "note_id": note.id if note else "", "version": note.version if note else ""}


def expectation_form(s: Scene) -> dict:
    return {"expected": "Live by May", "reality": "Live in June", "assessment": "worse", "impact": "Later campaign", "visibility": "shared"}


def deliverable_form(s: Scene) -> dict:
    return {"title": "Homepage design", "description": "Desktop and phone", "included_rounds": "2"}


def deliverable_draft_form(s: Scene) -> dict:
    return {"change_notes": "Bigger logo", "links": "Staging https://staging.example.com", "save": "Save draft"}


def deliverable_review_due(s: Scene) -> dict:
    """Return the form that gives the version in review a date to decide by (next week)."""
    from datetime import timedelta

    return {"review-review_due": (project_today(s.world.project) + timedelta(days=7)).isoformat()}


def deliverable_changes(s: Scene) -> dict:
    return {"changes-reason_category": "quality", "changes-text": "The photo is blurry"}


def deliverable_comment(s: Scene) -> dict:
    """Return a filled-in comment on a deliverable."""
    return {"comment-body": "Looks good"}


def deliverable_reopen(s: Scene) -> dict:
    """Return a filled-in form reopening an approved deliverable."""
    return {"reopen-reason": "Legal found a wrong claim"}


def deliverable_upload(s: Scene) -> dict:
    import io

    return {"files": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "v2-notes.pdf")}


# --- The matrix ---------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One route and method, with what each kind of visitor gets."""

    method: str
    url: str
    expect: dict[str, int | str]
    data: Callable[[Scene], dict] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.url}"


def row(method: str, url: str, *expected: int | str, data: Callable[[Scene], dict] | None = None) -> Row:
    assert len(expected) == len(ROLES), url
    return Row(method, url, dict(zip(ROLES, expected, strict=True)), data)


# fmt: off
MATRIX = [
    #   method  url                                         anonymous other_client own_client manager other_manager admin
    row("GET",  "/login",                                        200,  HOME,  HOME,  HOME,  HOME,  HOME),
    row("POST", "/login",                                        HOME, HOME,  HOME,  HOME,  HOME,  HOME, data=login_form),
    row("POST", "/logout",                                       LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    row("GET",  "/invite/{invite_token}",                        200,  200,   200,   200,   200,   200),
    row("POST", "/invite/{invite_token}",                        HOME, HOME,  HOME,  HOME,  HOME,  HOME, data=new_account),
    row("GET",  "/login/link",                                   200,  200,   200,   200,   200,   200),
    row("POST", "/login/link",                                   LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, data=forgot),
    row("GET",  "/login/link/not-a-real-link",                   404,  404,   404,   404,   404,   404),
    row("POST", "/login/link/not-a-real-link",                   404,  404,   404,   404,   404,   404),
    row("GET",  "/password/forgot",                              200,  200,   200,   200,   200,   200),
    row("POST", "/password/forgot",                              LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, data=forgot),
    row("GET",  "/password/reset/{reset_token}",                 200,  200,   200,   200,   200,   200),
    row("POST", "/password/reset/{reset_token}",                 LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, data=new_password),
    row("POST", "/language",                                     HOME, HOME,  HOME,  HOME,  HOME,  HOME, data=language),
    row("GET",  "/",                                             LOGIN, 200,  200,   200,   200,   200),
    row("GET",  "/account/",                                     LOGIN, 200,  200,   200,   200,   200),
    row("POST", "/account/",                                     LOGIN, DONE, DONE,  DONE,  DONE,  DONE, data=profile),
    row("POST", "/account/password",                             LOGIN, DONE, DONE,  DONE,  DONE,  DONE, data=password_change),
    row("POST", "/account/calendar",                             LOGIN, 201,  201,   201,   201,   201),
    row("POST", "/account/calendar/revoke",                      LOGIN, DONE, DONE,  DONE,  DONE,  DONE),
    row("GET",  "/calendar/not-anyones-address.ics",             404,   404,  404,   404,   404,   404),
    row("GET",  "/clients/",                                     LOGIN, 403,  403,   200,   200,   200),
    row("GET",  "/clients/new",                                  LOGIN, 403,  403,   403,   403,   200),
    row("POST", "/clients/new",                                  LOGIN, 403,  403,   403,   403,   DONE, data=client_profile),
    row("GET",  "/clients/{own_org}",                            LOGIN, 403,  403,   200,   404,   200),
    row("GET",  "/clients/{own_org}/edit",                       LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/clients/{own_org}/edit",                       LOGIN, 403,  403,   DONE,  404,   DONE, data=client_profile),
    row("POST", "/clients/{own_org}/archive",                    LOGIN, 403,  403,   403,   403,   DONE),
    row("POST", "/clients/{own_org}/restore",                    LOGIN, 403,  403,   403,   403,   DONE),
    row("POST", "/clients/{own_org}/invite",                     LOGIN, 403,  403,   DONE,  404,   DONE, data=client_invite),
    row("GET",  "/projects/{project}",                           LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/projects/{project}?kind=goals&before=2147483647", LOGIN, 404, 200,  200,   404,   200),
    row("GET",  "/projects/{project}?kind[]=x&before=-1",        LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/?manager=99999999999999999999&more=../&page=-5", LOGIN, 200, 200,  200,   200,   200),
    row("GET",  "/projects/new",                                 LOGIN, 403,  403,   403,   403,   200),
    row("POST", "/projects/new",                                 LOGIN, 403,  403,   403,   403,   DONE, data=new_project),
    row("GET",  "/projects/{project}/edit",                      LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/projects/{project}/edit",                      LOGIN, 403,  403,   DONE,  404,   DONE, data=project_settings),
    row("POST", "/projects/{project}/members",                   LOGIN, 403,  403,   DONE,  404,   DONE, data=add_colleague),
    row("POST", "/projects/{project}/members/{member}/remove",   LOGIN, 403,  403,   DONE,  404,   DONE),
    row("POST", "/projects/{project}/members/{member}/approver", LOGIN, 403,  403,   DONE,  404,   DONE, data=lambda s: {"approver": "0"}),
    row("POST", "/projects/{project}/archive",                   LOGIN, 403,  403,   403,   403,   DONE),
    row("POST", "/projects/{project}/restore",                   LOGIN, 403,  403,   403,   403,   DONE),
    row("GET",  "/admin/users",                                  LOGIN, 403,  403,   403,   403,   200),
    row("GET",  "/admin/users/invite",                           LOGIN, 403,  403,   403,   403,   200),
    row("POST", "/admin/users/invite",                           LOGIN, 403,  403,   403,   403,   DONE, data=staff_invite),
    row("GET",  "/admin/users/{person}",                         LOGIN, 403,  403,   403,   403,   200),
    row("POST", "/admin/users/{person}",                         LOGIN, 403,  403,   403,   403,   DONE, data=lambda s: {"role": "admin"}),
    row("POST", "/admin/users/{person}/deactivate",              LOGIN, 403,  403,   403,   403,   DONE),
    row("POST", "/admin/users/{person}/reactivate",              LOGIN, 403,  403,   403,   403,   DONE),
    row("POST", "/admin/users/{invitee}/resend",                 LOGIN, 403,  403,   403,   403,   DONE),
    row("GET",  "/admin/emails/",                                LOGIN, 403,  403,   403,   403,   200),
    row("GET",  "/admin/emails/{email}",                         LOGIN, 403,  403,   403,   403,   200),
    row("POST", "/admin/emails/{email}/retry",                   LOGIN, 403,  403,   403,   403,   DONE),
    row("GET",  "/projects/{project}/assets",                    LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/projects/{project}/assets/requests/new",       LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/projects/{project}/assets/requests/new",       LOGIN, 403,  403,   DONE,  404,   DONE, data=asset_request_form),
    row("POST", "/projects/{project}/assets/files",              LOGIN, 404,  DONE,  DONE,  404,   DONE, data=asset_upload),
    row("GET",  "/assets/requests/{asset_request}",              LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/assets/requests/{asset_request}/edit",         LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/assets/requests/{asset_request}/edit",         LOGIN, 403,  403,   DONE,  404,   DONE, data=asset_request_form),
    row("POST", "/assets/requests/{open_request}/cancel",        LOGIN, 403,  403,   DONE,  404,   DONE),
    row("POST", "/assets/requests/{submitted_request}/accept",   LOGIN, 403,  403,   DONE,  404,   DONE),
    row("POST", "/assets/requests/{submitted_request}/return",   LOGIN, 403,  403,   DONE,  404,   DONE, data=return_note),
    row("POST", "/assets/requests/{asset_request}/files",        LOGIN, 404,  DONE,  DONE,  404,   DONE, data=asset_upload),
    row("GET",  "/assets/files/{asset_file}",                    LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/assets/files/{asset_file}/thumbnail",          LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/projects/{project}/goals",                     LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/projects/{project}/goals/new",                 LOGIN, 404,  200,   200,   404,   200),
    row("POST", "/projects/{project}/goals/new",                 LOGIN, 404,  DONE,  DONE,  404,   DONE, data=goal_form),
    row("GET",  "/goals/{goal}",                                 LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/goals/{goal}/history",                         LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/goals/{goal}/revise",                          LOGIN, 404,  200,   200,   404,   200),
    row("POST", "/goals/{agency_goal}/revise",                   LOGIN, 404,  DONE,  DONE,  404,   DONE, data=goal_counter),
    row("POST", "/goals/{agency_goal}/sign",                     LOGIN, 404,  DONE,  422,   404,   422,  data=lambda s: {"revision": "1"}),
    row("POST", "/goals/{client_goal}/sign",                     LOGIN, 404,  422,   DONE,  404,   DONE, data=lambda s: {"revision": "1"}),
    row("POST", "/goals/{agency_goal}/decline",                  LOGIN, 404,  DONE,  422,   404,   422,  data=goal_decline),
    row("POST", "/goals/{agency_goal}/assumptions/{assumption}", LOGIN, 404,  DONE,  403,   404,   403,  data=assumption_answer),
    row("POST", "/goals/{client_goal}/assumptions/{assumption}", LOGIN, 404,  403,   DONE,  404,   DONE, data=assumption_answer),
    row("POST", "/goals/{agreed_goal}/check-ins",                LOGIN, 403,  403,   DONE,  404,   DONE, data=goal_check_in),
    row("POST", "/goals/{goal}/comments",                        LOGIN, 404,  DONE,  DONE,  404,   DONE, data=lambda s: {"comment-body": "Hello"}),
    row("POST", "/goals/{agreed_goal}/close",                    LOGIN, 404,  DONE,  DONE,  404,   DONE, data=lambda s: {"close-outcome": "achieved"}),
    row("POST", "/goals/{closing_goal}/closures/{closure}/confirm", LOGIN, 404, DONE, 403,  404,   403),
    row("POST", "/goals/{closing_goal}/closures/{closure}/reject",  LOGIN, 404, DONE, DONE, 404,   DONE),
    row("GET",  "/projects/{project}/updates",                            LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/projects/{project}/updates/new",                        LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/projects/{project}/updates/new",                        LOGIN, 403,  403,   DONE,  404,   DONE, data=update_form),
    row("GET",  "/projects/{project}/updates/{update}",                   LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/projects/{project}/updates/{kept_draft}",               LOGIN, 404,  404,   200,   404,   200),
    row("GET",  "/projects/{project}/updates/{kept_draft}/edit",          LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/projects/{project}/updates/{kept_draft}/edit",          LOGIN, 403,  403,   DONE,  404,   DONE, data=draft_form),
    row("POST", "/projects/{project}/updates/{draft}/publish",            LOGIN, 403,  403,   DONE,  404,   DONE),
    row("POST", "/projects/{project}/updates/{draft}/delete",             LOGIN, 403,  403,   DONE,  404,   DONE),
    row("POST", "/projects/{project}/updates/{update}/comments",          LOGIN, 404,  DONE,  DONE,  404,   DONE, data=comment_form),
    row("POST", "/projects/{project}/updates/{kept_draft}/comments",      LOGIN, 404,  404,   409,   404,   409,  data=comment_form),
    row("POST", "/projects/{project}/updates/{update}/acknowledge",       LOGIN, 404,  DONE,  403,   403,   403,  data=concern_form),
    row("POST", "/projects/{project}/updates/{kept_draft}/acknowledge",   LOGIN, 404,  404,   403,   403,   403,  data=concern_form),
    row("POST", "/projects/{project}/updates/new",                        LOGIN, 403,  403,   DONE,  404,   DONE, data=update_form_with_files),
    row("POST", "/projects/{project}/updates/{kept_draft}/edit",          LOGIN, 403,  403,   DONE,  404,   DONE, data=draft_form_with_files),
    row("POST", "/projects/{project}/updates/{update}/attachments",       LOGIN, 403,  403,   DONE,  404,   DONE, data=update_files),
    row("POST", "/projects/{project}/updates/{update}/attachments/{fresh_attachment}/remove", LOGIN, 403, 403, DONE, 404, DONE),
    row("GET",  "/projects/{project}/updates/{update}/attachments/{attachment}",                LOGIN, 404, 200, 200, 404, 200),
    row("GET",  "/projects/{project}/updates/{update}/attachments/{attachment}/thumbnail",      LOGIN, 404, 200, 200, 404, 200),
    row("GET",  "/projects/{project}/updates/{kept_draft}/attachments/{draft_attachment}",      LOGIN, 404, 404, 200, 404, 200),
    row("GET",  "/projects/{project}/updates/{kept_draft}/attachments/{draft_attachment}/thumbnail", LOGIN, 404, 404, 200, 404, 200),
    row("GET",  "/projects/{project}/updates/{update}/attachments/{draft_attachment}",          LOGIN, 404, 404, 404, 404, 404),
    row("GET",  "/projects/{project}/weekly",                             LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/projects/{project}/weekly/note",                        LOGIN, 403,  403,   DONE,  404,   DONE, data=weekly_note_form),
    row("GET",  "/projects/{project}/expectations/",                      LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/projects/{project}/expectations/new",                   LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/projects/{project}/expectations/new",                   LOGIN, 403,  403,   DONE,  404,   DONE, data=expectation_form),
    row("GET",  "/projects/{project}/expectations/{xnote}/edit",          LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/projects/{project}/expectations/{xnote}/edit",          LOGIN, 403,  403,   DONE,  404,   DONE, data=expectation_form),
    row("GET",  "/projects/{project}/deliverables",                        LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/projects/{project}/deliverables/new",                    LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/projects/{project}/deliverables/new",                    LOGIN, 403,  403,   DONE,  404,   DONE, data=deliverable_form),
    row("GET",  "/deliverables/{deliverable}",                             LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/deliverables/{deliverable}/edit",                        LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/deliverables/{deliverable}/edit",                        LOGIN, 403,  403,   DONE,  404,   DONE, data=deliverable_form),
    row("POST", "/deliverables/{deliverable}/comments",                    LOGIN, 404,  DONE,  DONE,  404,   DONE, data=deliverable_comment),
    row("POST", "/deliverables/{review_deliverable}/versions/1/approve",   LOGIN, 404,  DONE,  403,   404,   403),
    row("POST", "/deliverables/{review_deliverable}/versions/1/request-changes", LOGIN, 404, DONE, 403, 404, 403,
        data=deliverable_changes),
    row("POST", "/deliverables/{approved_deliverable}/reopen",             LOGIN, 403,  403,   403,   403,   DONE, data=deliverable_reopen),
    row("POST", "/deliverables/{review_deliverable}/versions/new",         LOGIN, 403,  403,   DONE,  404,   DONE),
    row("POST", "/deliverables/{review_deliverable}/versions/1/review-due", LOGIN, 403, 403,  DONE,  404,   DONE, data=deliverable_review_due),
    row("GET",  "/deliverables/{drafted_deliverable}/draft",               LOGIN, 403,  403,   200,   404,   200),
    row("POST", "/deliverables/{drafted_deliverable}/draft",               LOGIN, 403,  403,   DONE,  404,   DONE, data=deliverable_draft_form),
    row("POST", "/deliverables/{drafted_deliverable}/draft/discard",       LOGIN, 403,  403,   DONE,  404,   DONE),
    row("POST", "/deliverables/{drafted_deliverable}/draft/files",         LOGIN, 403,  403,   DONE,  404,   DONE, data=deliverable_upload),
    row("POST", "/deliverables/{drafted_deliverable}/draft/files/{deliverable_draft_file}/remove", LOGIN, 403, 403, DONE, 404, DONE),
    row("GET",  "/deliverables/files/{deliverable_file}",                  LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/deliverables/files/{deliverable_file}/thumbnail",        LOGIN, 404,  200,   200,   404,   200),
]
# fmt: on


# --- Answering an update from its email (issue 13): public pages, opened by a link's secret --------------
# A link works without a session; logged in as anyone but its person it is refused (403); an unknown one is 404.


def _answer_link(scene: Scene) -> str:
    """Return the secret of a fresh "concern" link of the client's for the shared published update."""
    from portal.models import Update
    from portal.updates import answers

    addresses = answers.issue_links(db.session.get(Update, scene.update()), scene.world.own_client)
    db.session.commit()
    return addresses["concern"].rsplit("/", 1)[1]


def _answered_link(scene: Scene) -> str:
    """Return the secret of a fresh link on the shared update, which the client has answered (the row written directly)."""
    from portal.models import AckChoice, UpdateAcknowledgement

    if "answered" not in scene._cache:
        db.session.add(UpdateAcknowledgement(update_id=scene.update(), user_id=scene.world.own_client.id, choice=AckChoice.CONCERN, comment="Late"))
        db.session.commit()
        scene._cache["answered"] = 1
    return _answer_link(scene)


def answer_form(s: Scene) -> dict:
    return {"comment": "The launch date worries us.", "score": "3"}


Scene.answer_link = _answer_link  # type: ignore[attr-defined]
Scene.answered_link = _answered_link  # type: ignore[attr-defined]

# fmt: off
MATRIX += [
    #   method  url                                         anonymous other_client own_client manager other_manager admin
    row("GET",  "/answer/{answer_link}",                         200,  403,   200,   403,   403,   403),
    row("POST", "/answer/{answer_link}",                         DONE, 403,   DONE,  403,   403,   403, data=answer_form),
    row("GET",  "/answer/{answered_link}/thanks",                200,  403,   200,   403,   403,   403),
    row("GET",  "/answer/not-a-real-link",                       404,  404,   404,   404,   404,   404),
    row("POST", "/answer/not-a-real-link",                       404,  404,   404,   404,   404,   404, data=answer_form),
    row("GET",  "/answer/not-a-real-link/thanks",                404,  404,   404,   404,   404,   404),
]
# fmt: on

# --- Pinned review (issue 15): a version's image with its pins; another organisation's pin is 404 for every method ----------


def _pinned_deliverable(scene: Scene):
    """Make a deliverable in review whose image can carry pins, its preview rendered; return (deliverable, file)."""
    from portal.models.pins import FilePreview
    from portal.pins import previews

    deliverable, shown = scene._deliverable()
    shown.width, shown.height = 64, 48
    preview = FilePreview(file=shown)
    db.session.add(preview)
    db.session.commit()
    previews.render(preview.id)
    return deliverable, shown


def _pinnable_file(scene: Scene) -> int:
    """The image of a deliverable in review, shared by the visitors (reading it, pinning it)."""
    if "pinnable_file" not in scene._cache:
        scene._cache["pinnable_file"] = _pinned_deliverable(scene)[1].id
    return scene._cache["pinnable_file"]


def _pin(scene: Scene, *, internal: bool = False) -> int:
    """A fresh pin on the shared image: the client's, or an internal one of the manager's."""
    from portal.models.deliverables import DeliverableFile

    file = db.session.get(DeliverableFile, _pinnable_file(scene))
    return _pin_on(scene, file, internal=internal)


def _pin_on(scene: Scene, file, *, internal: bool = False) -> int:
    """Write a pin on ``file`` directly (no activity event: the matrix checks that refusals record none)."""
    from portal.models.pins import ReviewPin

    scene._made += 1
    author = scene.world.manager if internal else scene.world.own_client
    pin = ReviewPin(
        deliverable_id=file.version.deliverable_id, version_id=file.version_id, file_id=file.id, number=scene._made,
        x=0.5, y=0.5, author=author, body="Bigger logo", internal=internal,
    )
    db.session.add(pin)
    db.session.commit()
    return pin.id


def _carried_pin(scene: Scene) -> int:
    """A fresh open pin of version 1 of a deliverable whose version 2 now waits for review."""
    from portal.models.deliverables import DeliverableStatus, DeliverableVersion, VersionStatus

    deliverable, shown = _pinned_deliverable(scene)
    pin_id = _pin_on(scene, shown)
    shown.version.status = VersionStatus.CHANGES_REQUESTED
    db.session.add(DeliverableVersion(
        deliverable=deliverable, number=2, created_by=scene.world.manager, submitted_by=scene.world.manager, submitted_at=utcnow(),
        status=VersionStatus.IN_REVIEW,
    ))
    deliverable.current_number, deliverable.status = 2, DeliverableStatus.IN_REVIEW
    db.session.commit()
    scene._cache["compared_deliverable"] = deliverable.id
    return pin_id


def _compared_deliverable(scene: Scene) -> int:
    """A deliverable with two submitted versions (to compare)."""
    if "compared_deliverable" not in scene._cache:
        _carried_pin(scene)
    return scene._cache["compared_deliverable"]


def pin_form(s: Scene) -> dict:
    return {"pin-x": "0.25", "pin-y": "0.75", "pin-page": "1", "pin-body": "Move the button up"}


def pin_reply(s: Scene) -> dict:
    return {"reply-body": "Done in the next version"}


def pin_settle(s: Scene) -> dict:
    return {"settle-status": "resolved"}


def pin_check(s: Scene) -> dict:
    return {"addressed": "yes"}


Scene.pinnable_file = _pinnable_file  # type: ignore[attr-defined]
Scene.pin = _pin  # type: ignore[attr-defined]
Scene.internal_pin = lambda scene: _pin(scene, internal=True)  # type: ignore[attr-defined]
Scene.carried_pin = _carried_pin  # type: ignore[attr-defined]
Scene.compared_deliverable = _compared_deliverable  # type: ignore[attr-defined]

# fmt: off
MATRIX += [
    #   method  url                                              anonymous other_client own_client manager other_manager admin
    row("GET",  "/deliverables/files/{pinnable_file}/review",         LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/deliverables/files/{pinnable_file}/pages/1",        LOGIN, 404,  200,   200,   404,   200),
    row("GET",  "/deliverables/files/{pinnable_file}/preview-status", LOGIN, 404,  200,   200,   404,   200),
    row("POST", "/deliverables/files/{pinnable_file}/pins",           LOGIN, 404,  DONE,  DONE,  404,   DONE, data=pin_form),
    row("POST", "/pins/{pin}/replies",                                LOGIN, 404,  DONE,  DONE,  404,   DONE, data=pin_reply),
    row("POST", "/pins/{internal_pin}/replies",                       LOGIN, 404,  404,   DONE,  404,   DONE, data=pin_reply),
    row("POST", "/pins/{pin}/settle",                                 LOGIN, 404,  403,   DONE,  404,   DONE, data=pin_settle),
    row("POST", "/pins/{carried_pin}/check",                          LOGIN, 404,  403,   DONE,  404,   DONE, data=pin_check),
    row("GET",  "/deliverables/{compared_deliverable}/compare",       LOGIN, 404,  200,   200,   404,   200),
]
# fmt: on

# --- Rows of other features, each in a module of its own -------------------------------------------------------
# A module ``tests/integration/access_rows_<feature>.py`` defines ``extend(scene_class) -> list[Row]``: it may add
# the Scene methods its URLs name (``scene_class.my_object = ...``) and returns its rows, built with ``row``.
# Features developed side by side then never edit this file at the same time.


def _feature_rows() -> list[Row]:
    """Import every ``access_rows_*`` module next to this file and collect its rows (in the modules' name order)."""
    import importlib
    import pkgutil
    from pathlib import Path

    rows: list[Row] = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda info: info.name):
        if info.name.startswith("access_rows_"):
            rows.extend(importlib.import_module(f"{__package__}.{info.name}").extend(Scene))
    return rows


MATRIX += _feature_rows()

STATIC_ENDPOINTS = {"static", "bootstrap.static"}


def sign_in(web, user) -> None:
    """Open a server-side session for ``user`` and hand it to the browser.

    It is what the login form does, minus the deliberately slow password check:
    the matrix is about access, and ``test_auth.py`` covers logging in itself.
    """
    token = auth_service.start_session(user, remember=False)
    db.session.commit()
    with web.client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True


def activity_count() -> int:
    """Return how many changes the activity log holds."""
    return db.session.scalar(select(func.count()).select_from(ActivityEvent))


def visit(web, scene: Scene, row: Row):
    """Send ``row``'s request with its form (if any) and return the response."""
    url = row.url.format_map(scene)
    if row.method == "GET":
        return web.get(url)
    return web.post(url, row.data(scene) if row.data else {})


def matches(expected: int | str, response) -> bool:
    """Tell whether ``response`` is what the matrix expects."""
    if isinstance(expected, int):
        return response.status_code == expected
    if response.status_code != 302:
        return False
    target = urlsplit(response.headers["Location"]).path
    return target != LOGIN if expected == DONE else target == expected


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: r.id)
def test_access(make_web, scene, row: Row):
    """Each kind of visitor gets exactly the answer the matrix promises for this route."""
    wrong = []
    for role in ROLES:
        browser = make_web()
        if role != "anonymous":
            sign_in(browser, getattr(scene.world, role))
        events_before = activity_count()
        response = visit(browser, scene, row)
        if not matches(row.expect[role], response):
            got = f"{response.status_code} {response.headers.get('Location', '')}".strip()
            wrong.append(f"  {role}: expected {row.expect[role]}, got {got}")
        elif response.status_code in (403, 404) and activity_count() != events_before:
            wrong.append(f"  {role}: refused with {response.status_code}, yet something was changed")
    assert not wrong, f"{row.id}\n" + "\n".join(wrong)


def _allowed_role(row: Row) -> str:
    """Return a kind of visitor the matrix lets through ``row``: one it serves, else (public forms) the anonymous one."""
    served = [role for role in ROLES if row.expect[role] in (DONE, HOME) or row.expect[role] == 200]
    return served[-1] if served else "anonymous"


@pytest.mark.parametrize("row", [r for r in MATRIX if r.method == "POST"], ids=lambda r: r.id)
def test_every_post_without_its_form_token_is_refused_and_changes_nothing(make_web, scene, row: Row):
    """CSRF: a visitor who may use the route, sending its form without the token, gets 400 and nothing changes.

    Streamed uploads (exempt from Flask-WTF, checked while the body streams in) are covered too.
    """
    role = _allowed_role(row)
    browser = make_web()
    if role != "anonymous":
        sign_in(browser, getattr(scene.world, role))
    url, data = row.url.format_map(scene), row.data(scene) if row.data else {}  # the scene builds what they name first
    events_before, emails_before = activity_count(), db.session.scalar(select(func.count()).select_from(OutboxEmail))
    response = browser.post(url, data, csrf=False)
    assert response.status_code == 400, (row.id, role, response.status_code)
    assert activity_count() == events_before and db.session.scalar(select(func.count()).select_from(OutboxEmail)) == emails_before


class _PostForms(HTMLParser):
    """Collect, for every ``<form method="post">`` of a page, whether it carries a CSRF token field (prefixed forms too)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, bool]] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "").lower() == "post":
            self._open = [values.get("action") or ""]
            self.forms.append((self._open[0], False))
        elif tag == "input" and self._open is not None and (values.get("name") or "").endswith("csrf_token"):  # "prefix-csrf_token" too
            self.forms[-1] = (self.forms[-1][0], True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


@pytest.mark.parametrize("row", [r for r in MATRIX if r.method == "GET"], ids=lambda r: r.id)
def test_every_form_on_every_page_carries_its_token(make_web, scene, row: Row):
    """A page's POST forms each send the CSRF token, so a template that loses it fails here, not in production."""
    role = next((role for role in reversed(ROLES) if row.expect[role] == 200), None)
    if role is None:
        return  # nobody sees this page (a redirect for everyone): nothing to read
    browser = make_web()
    if role != "anonymous":
        sign_in(browser, getattr(scene.world, role))
    response = browser.get(row.url.format_map(scene))
    assert response.status_code == 200, row.id
    if response.mimetype != "text/html":
        return  # a download: no forms
    parser = _PostForms()
    parser.feed(response.get_data(as_text=True))
    missing = [action for action, has_token in parser.forms if not has_token]
    assert not missing, f"{row.id} as {role}: forms without a CSRF token: {missing}"


def test_anonymous_visitor_comes_back_after_logging_in(web, world):
    """A visitor sent to the login page is taken to the page they wanted once logged in."""
    response = web.get(f"/projects/{world.project.id}")
    assert urlsplit(response.headers["Location"]).path == "/login"
    login_page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert f'value="/projects/{world.project.id}"' in login_page
    response = web.login(world.own_client, next=f"/projects/{world.project.id}")
    assert response.headers["Location"] == f"/projects/{world.project.id}"


class _AnyId(dict):
    """Fill every URL placeholder with a plausible id."""

    def __missing__(self, key: str) -> str:
        return "7"


def test_every_route_has_a_matrix_row(app):
    """A new route cannot ship without saying who may use it."""
    adapter = app.url_map.bind("portal.test")
    placeholders = _AnyId()
    covered = {(adapter.match(r.url.format_map(placeholders).split("?")[0], method=r.method)[0], r.method) for r in MATRIX}
    registered = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in STATIC_ENDPOINTS
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert registered - covered == set(), "routes without a row in MATRIX"
    assert covered - registered == set(), "rows in MATRIX for routes that no longer exist"


# --- Links that must not be shown ------------------------------------------------------


class _Links(HTMLParser):
    """Collect the text and target of every link on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._text).split()), self._href))
            self._href = None


def links(html: str) -> dict[str, str]:
    """Return the page's links as {text: href}."""
    parser = _Links()
    parser.feed(html)
    return dict(parser.links)


def test_client_home_has_no_staff_links(web, world):
    """A client's home page shows their project and none of the agency's sections."""
    web.login(world.own_client)
    page = links(web.text("/"))
    assert "E-commerce relaunch" in " ".join(page)
    for text in ("Clients", "People", "Email log", "New project", "New client"):
        assert text not in page
    assert not [href for href in page.values() if href.startswith(("/clients", "/admin"))]


def test_manager_pages_have_no_admin_links(web, world):
    """A manager sees Clients but neither People nor the email log, on any page."""
    web.login(world.manager)
    for url in ("/", "/clients/", f"/clients/{world.own_org.id}", f"/projects/{world.project.id}"):
        page = links(web.text(url))
        assert "Clients" in page, url
        assert "People" not in page and "Email log" not in page, url
        assert not [href for href in page.values() if href.startswith("/admin")], url
        assert "New project" not in page and "New client" not in page, url


def test_admin_sees_every_section(web, world):
    """The admin's navigation has every section (so the checks above look for real link texts)."""
    web.login(world.admin)
    page = links(web.text("/"))
    assert page["Clients"] == "/clients/"
    assert page["People"] == "/admin/users"
    assert page["Email log"] == "/admin/emails/"


def test_client_project_page_hides_staff_matters(make_web, world):
    """A client's project page has no Settings link and none of the agency's notes on them."""
    world.own_org.internal_notes = "Pays late; keep invoices short"
    world.own_org.sensitivities = "The CEO dislikes yellow"
    world.own_org.decision_makers = "Mehmet Bey decides"
    db.session.commit()
    manager = make_web()
    manager.login(world.manager)
    staff_view = manager.text(f"/projects/{world.project.id}")
    assert "Settings" in links(staff_view)
    assert "The CEO dislikes yellow" in staff_view  # the staff-only box is there for staff

    client = make_web()
    client.login(world.own_client)
    page = client.text(f"/projects/{world.project.id}")
    assert "E-commerce relaunch" in page
    assert "Settings" not in links(page)
    assert f"/projects/{world.project.id}/edit" not in page
    for secret in ("Pays late", "The CEO dislikes yellow", "Mehmet Bey decides", "Know your client", "Staff only"):
        assert secret not in page
    for button in ("Archive", "Remove", "Make approver", "Add to project"):
        assert f">{button}<" not in page


def test_lists_show_nothing_of_another_organisation(web, make_web, world):
    """Home pages and the clients list never name another organisation's work."""
    web.login(world.other_client)
    home = web.text("/")
    assert "Spring catalogue" in home and "E-commerce relaunch" not in home

    other_manager = make_web()
    other_manager.login(world.other_manager)
    for url in ("/", "/clients/"):
        page = other_manager.text(url)
        assert "Northwind Outdoor" in page, url
        assert "Anadolu Kahve" not in page and "E-commerce relaunch" not in page, url
    world.own_org.archived_at = utcnow()
    db.session.commit()
    assert "Anadolu Kahve" not in other_manager.text("/clients/?archived=1")


# --- Ids smuggled in forms and URLs ----------------------------------------------------


def test_manager_cannot_add_another_organisations_user(web, world):
    """A user id of another organisation, posted to the members form, is refused and nothing is added."""
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/members", {"member-user_id": world.other_client.id})
    assert 400 <= response.status_code < 500
    assert world.other_client.id not in {m.user_id for m in world.project.members}
    web.logout()
    web.login(world.other_client)
    assert web.get(f"/projects/{world.project.id}").status_code == 404


def test_manager_cannot_open_another_managers_project(web, world):
    """Another manager's project is not found, for reading and for changing."""
    web.login(world.manager)
    url = f"/projects/{world.other_project.id}"
    assert web.get(url).status_code == 404
    assert web.get(f"{url}/edit").status_code == 404
    response = web.post(f"{url}/edit", {"name": "Hijacked", "weekly_hour": "9", "included_rounds": "2"})
    assert response.status_code == 404
    assert world.other_project.name == "Spring catalogue"


def test_member_ids_of_another_project_are_not_found(web, world):
    """A membership of another project, addressed through one's own project, is not found and stays."""
    other_member = world.other_project.members[0]
    web.login(world.manager)
    own = f"/projects/{world.project.id}/members/{other_member.id}"
    assert web.post(f"{own}/remove").status_code == 404
    assert web.post(f"{own}/approver", {"approver": "0"}).status_code == 404
    member = db.session.get(ProjectMember, other_member.id)
    assert member is not None and member.is_approver


def test_manager_cannot_reach_users_of_other_organisations(web, world):
    """A manager cannot open or change any account through the people pages, whoever it belongs to."""
    web.login(world.manager)
    for user in (world.own_client, world.other_client):
        assert web.get(f"/admin/users/{user.id}").status_code == 403
        assert web.post(f"/admin/users/{user.id}/deactivate").status_code == 403
        assert user.active
