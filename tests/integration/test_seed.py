"""The demo data of `make run`: every feature has something to show, and seeding is idempotent."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import func, select

from portal.assets.queries import checklists
from portal.extensions import db
from portal.goals.progress import ProgressStatus, progress_for
from portal.goals.queries import awaiting_signature
from portal.models import (
    AckChoice,
    AssetRequest,
    AssetRequestStatus,
    AssumptionStatus,
    Deliverable,
    DeliverableStatus,
    DeliverableVersion,
    EmailStatus,
    ExpectationNote,
    Goal,
    GoalState,
    NoteSource,
    OutboxEmail,
    Project,
    ProjectStatus,
    Side,
    Update,
    UpdateAcknowledgement,
    UpdateComment,
    UpdateKind,
    UpdateStatus,
    User,
    VersionStatus,
)
from portal.seed import DEMO_PASSWORD, demo_logins, seed_demo
from portal.seed.content import STORIES
from portal.storage import storage_for
from portal.timeutil import local_today

README = Path(__file__).resolve().parents[2] / "README.md"


def main_projects() -> list[Project]:
    """Return the projects the demo tells a story about."""
    return list(db.session.scalars(select(Project).where(Project.name.in_(STORIES)).order_by(Project.id)))


def row_counts() -> dict[str, int]:
    """Return the number of rows of every table."""
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables}


def test_every_client_login_sees_a_full_project_page(app, make_web):
    assert seed_demo() is True
    clients = [login.email for login in demo_logins() if login.role.startswith("Client")]
    assert len(clients) == 5
    for email in clients:
        user = db.session.scalar(select(User).where(User.email == email))
        project = next(p for p in main_projects() if p.client_id == user.client_id)
        web = make_web()
        assert web.login(email, DEMO_PASSWORD).status_code == 302, email
        page = web.text(f"/projects/{project.id}")

        for goal in db.session.scalars(select(Goal).where(Goal.project_id == project.id)):
            assert html.escape(goal.terms.title) in page, (email, goal.terms.title)
        waiting = db.session.scalars(
            select(Deliverable).where(Deliverable.project_id == project.id, Deliverable.status == DeliverableStatus.IN_REVIEW)
        ).all()
        assert waiting and any(html.escape(d.title) in page for d in waiting), email
        requests = db.session.scalars(select(AssetRequest).where(AssetRequest.project_id == project.id)).all()
        assert any(html.escape(r.title) in page for r in requests), email
        weekly = db.session.scalar(select(Update).where(Update.project_id == project.id, Update.kind == UpdateKind.WEEKLY))
        with app.test_request_context():
            link = url_for("updates.show", project_id=project.id, update_id=weekly.id)
        assert link in page, email
        # Drafts stay with the staff.
        drafts = db.session.scalars(select(Update).where(Update.project_id == project.id, Update.status == UpdateStatus.DRAFT))
        assert all(html.escape(d.title) not in page for d in drafts)
        assert web.text(link)  # the weekly update itself opens


def test_the_story_of_each_main_project_covers_every_feature(app):
    seed_demo()
    projects = main_projects()
    assert len(projects) == 3
    storage = storage_for(app)
    for project in projects:
        today = local_today(project.timezone)
        goals = db.session.scalars(select(Goal).where(Goal.project_id == project.id)).all()
        progress = progress_for(goals, today)
        statuses = {progress[g.id].status for g in goals}
        assert ProgressStatus.ON_TRACK in statuses, project.name
        assert statuses & {ProgressStatus.AT_RISK, ProgressStatus.OFF_TRACK}, project.name
        waiting_for_client = [g for g, _ in awaiting_signature(Side.CLIENT, [project.id])]
        assert [g.state for g in waiting_for_client] == [GoalState.PROPOSED], project.name
        agreed = [g for g in goals if g.state is GoalState.AGREED]
        on_track = next(g for g in agreed if progress[g.id].status is ProgressStatus.ON_TRACK)
        check_ins = on_track.check_ins
        assert len(check_ins) >= 3 and (check_ins[-1].measured_on - check_ins[0].measured_on).days >= 10
        answers = {a.status for g in agreed for a in g.assumptions}
        assert {AssumptionStatus.CONFIRMED, AssumptionStatus.OPEN} <= answers
        assert all(g.comments for g in agreed)

        checklist = checklists([project])[0]
        assert checklist.overdue >= 1
        by_status = {r.status: r for r in checklist.items}
        assert AssetRequestStatus.OPEN in by_status
        returned = by_status[AssetRequestStatus.RETURNED]
        assert returned.reviews[-1].note
        accepted = by_status[AssetRequestStatus.ACCEPTED]
        (file,) = accepted.files
        with storage.open(file.storage_key) as handle:
            content = handle.read()
        assert content.startswith(b"\x89PNG") and hashlib.sha256(content).hexdigest() == file.sha256
        assert file.thumbnail_key and storage.exists(file.thumbnail_key)

        deliverables = {d.title: d for d in db.session.scalars(select(Deliverable).where(Deliverable.project_id == project.id))}
        statuses = sorted((d.status.value, d.current_number) for d in deliverables.values())
        assert statuses == [("approved", 1), ("in_review", 1), ("in_review", 2)], project.name
        versions = db.session.scalars(
            select(DeliverableVersion).join(Deliverable).where(Deliverable.project_id == project.id)
        ).all()
        first_review = next(v for v in versions if v.number == 1 and v.status is VersionStatus.IN_REVIEW)
        assert first_review.links and first_review.change_notes
        assert any(v.status is VersionStatus.CHANGES_REQUESTED for v in versions)

        updates = db.session.scalars(select(Update).where(Update.project_id == project.id)).all()
        manual = [u for u in updates if u.kind is UpdateKind.MANUAL and u.status is UpdateStatus.PUBLISHED]
        assert len(manual) >= 2 and all(u.done and u.next_steps for u in manual)
        assert any(u.blockers for u in manual)
        assert [u.status for u in updates if u.kind is UpdateKind.MANUAL].count(UpdateStatus.DRAFT) == 1
        ids = [u.id for u in updates]
        acks = db.session.scalars(select(UpdateAcknowledgement).where(UpdateAcknowledgement.update_id.in_(ids))).all()
        assert [a.choice for a in acks] == [AckChoice.ACCURATE]
        assert db.session.scalar(select(func.count()).select_from(UpdateComment).where(UpdateComment.update_id.in_(ids)))
        (weekly,) = [u for u in updates if u.kind is UpdateKind.WEEKLY]
        assert weekly.facts and not weekly.late
        notes = db.session.scalars(select(ExpectationNote).where(ExpectationNote.project_id == project.id)).all()
        assert {n.source for n in notes} == {NoteSource.MANUAL, NoteSource.WEEKLY}

    # Every active project got its weekly update, even in a quiet week; nothing is waiting to be emailed.
    active = db.session.scalars(select(Project.id).where(Project.status == ProjectStatus.ACTIVE)).all()
    weekly_projects = db.session.scalars(select(Update.project_id).where(Update.kind == UpdateKind.WEEKLY)).all()
    assert sorted(weekly_projects) == sorted(active)
    statuses = set(db.session.scalars(select(OutboxEmail.status)))
    assert statuses == {EmailStatus.SENT}
    assert not list(Path(app.config["MAIL_DIR"]).glob("*"))


def test_seeding_twice_changes_nothing(app, runner):
    first = runner.invoke(args=["portal", "seed", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "Demo data loaded" in first.output
    db.session.expire_all()
    before = row_counts()
    assert before["goals"] and before["asset_requests"] and before["deliverables"] and before["updates"]
    files = sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())
    second = runner.invoke(args=["portal", "seed", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert "already has users" in second.output
    without_flag = runner.invoke(args=["portal", "seed"])
    assert without_flag.exit_code == 1 and "only loaded into an empty database" in without_flag.output
    assert "Traceback" not in without_flag.output
    db.session.expire_all()
    assert row_counts() == before
    assert sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()) == files


def test_the_banner_lists_the_readme_logins(app, runner):
    """README and banner list the same logins, each with its language, approvers marked as such."""
    result = runner.invoke(args=["portal", "banner", "--url", "http://localhost:5000"])
    assert result.exit_code == 0
    readme = README.read_text().split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    assert f"`{DEMO_PASSWORD}`" in readme
    rows = re.findall(r"^\| ([^|`]+) \| `([^`]+@[^`]+)` \| (\w+) \|$", readme, re.MULTILINE)
    logins = demo_logins()
    assert [email for _, email, _ in rows] == [login.email for login in logins]
    labels = {"en": "English", "tr": "Turkish"}
    for (who, email, language), login in zip(rows, logins, strict=True):
        assert language == labels[login.language], email
        assert who.endswith("(approver)") == login.approver, email
        line = next(line for line in result.output.splitlines() if email in line)
        assert line.rstrip().endswith(labels[login.language]) and ("(approver)" in line) == login.approver, line
    assert result.output.count(DEMO_PASSWORD) == len(rows)
    assert any(login.approver for login in logins) and not all(login.approver for login in logins if login.role.startswith("Client"))


def test_the_banner_shows_the_base_url_links_point_at(app, runner):
    """Without --url the banner shows PORTAL_BASE_URL: the address in the emails' links."""
    app.config["BASE_URL"] = "http://localhost:5311"
    result = runner.invoke(args=["portal", "banner"])
    assert result.exit_code == 0 and "Rapport is running at http://localhost:5311/login" in result.output


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 23, 4, 0, tzinfo=UTC),  # Monday, before the Istanbul projects' 09:00 slot
        datetime(2026, 11, 19, 23, 30, tzinfo=UTC),  # Thursday night: already Friday in Istanbul
    ],
)
def test_the_story_holds_whenever_it_is_seeded(app, now):
    assert seed_demo(now=now) is True
    weekly = db.session.scalars(select(Update).where(Update.kind == UpdateKind.WEEKLY)).all()
    assert len(weekly) == 4 and not any(u.late for u in weekly)
    assert all(u.published_at <= now for u in weekly)
    latest = db.session.scalar(select(func.max(OutboxEmail.created_at)))
    assert latest <= now
    for project in main_projects():
        goals = db.session.scalars(select(Goal).where(Goal.project_id == project.id)).all()
        statuses = {p.status for p in progress_for(goals, local_today(project.timezone, now)).values()}
        assert ProgressStatus.ON_TRACK in statuses
        assert statuses & {ProgressStatus.AT_RISK, ProgressStatus.OFF_TRACK}
