"""The manager's home: an attention queue across their clients, bad news first, each item linking to its fix."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import (
    AckChoice,
    AssetRequest,
    AssetRequestStatus,
    Deliverable,
    DeliverableStatus,
    DeliverableVersion,
    Goal,
    GoalCheckIn,
    GoalRevision,
    GoalSignature,
    GoalState,
    MeasureKind,
    PreferredChannel,
    Project,
    Role,
    Side,
    Update,
    UpdateAcknowledgement,
    UpdateComment,
    UpdateKind,
    UpdateStatus,
    User,
    VersionStatus,
)
from portal.timeutil import local_today, utcnow

# Each kind's group heading, in the order the page must show them (bad news first).
HEADINGS = [
    "Concerns raised by clients",
    "Goals off track",
    "Changes requested",
    "Overdue asset requests",
    "Projects with no update in 7 days",
    "Files waiting for your review",
    "Goals awaiting agreement",
    "Waiting for the client’s decision",
    "Calls to offer this week",
]


@dataclass
class Seeded:
    """The titles of what was seeded for one project, one per kind."""

    concern: str
    off_track: str
    changes: str
    overdue: str
    silent: str
    review: str
    agreement: str
    decision: str
    call_client: str

    @property
    def titles(self) -> list[str]:
        return [self.concern, self.off_track, self.changes, self.overdue, self.silent, self.review, self.agreement, self.decision]


def logged_in(make_web, user: User):
    """Return a browser logged in as ``user``."""
    browser = make_web()
    browser.login(user)
    return browser


def queue_of(page: str) -> str:
    """Return the attention queue's part of the staff home."""
    start = page.index('id="queue-heading"')
    return page[start : page.index('id="projects-heading"', start)]


def words(body: str) -> str:
    """Return the text of an HTML fragment with its whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def seed_queue(project: Project, client_user: User, tag: str, *, quiet: Project) -> Seeded:
    """Give ``project`` one item of every kind (and ``quiet`` the silence), inserted directly and aged."""
    now = utcnow()
    today = local_today(project.timezone)
    project.created_at = now - timedelta(days=60)
    quiet.created_at = now - timedelta(days=20)
    project.client.preferred_channel = PreferredChannel.PHONE
    s = Seeded(
        concern=f"Sprint report {tag}",
        off_track=f"Online orders {tag}",
        changes=f"Logo redesign {tag}",
        overdue=f"Brand photos {tag}",
        silent=quiet.name,
        review=f"Product texts {tag}",
        agreement=f"Newsletter signups {tag}",
        decision=f"Homepage design {tag}",
        call_client=project.client.name,
    )
    update = Update(project=project, status=UpdateStatus.PUBLISHED, title=s.concern, published_at=now - timedelta(days=2))
    db.session.add(update)
    db.session.flush()
    db.session.add(
        UpdateAcknowledgement(
            update_id=update.id, user_id=client_user.id, choice=AckChoice.CONCERN, comment="The launch date worries us",
            created_at=now - timedelta(days=1), updated_at=now - timedelta(days=1),
        )
    )
    year, week, _ = (now - timedelta(days=1)).isocalendar()
    db.session.add(
        Update(project=project, kind=UpdateKind.WEEKLY, status=UpdateStatus.PUBLISHED, title="Weekly", published_at=now - timedelta(days=1),
               iso_year=year, iso_week=week, suggests_call=True)
    )

    off = Goal(project=project, state=GoalState.AGREED, current_number=1, agreed_number=1)
    off.revisions.append(
        GoalRevision(number=1, title=s.off_track, measure=MeasureKind.METRIC, baseline=Decimal(100), target=Decimal(200),
                     target_date=today + timedelta(days=30), agreed_on=today - timedelta(days=30), agreed_at=now - timedelta(days=30), side=Side.AGENCY)
    )
    off.check_ins.append(GoalCheckIn(revision_number=1, measured_on=today - timedelta(days=1), value=Decimal(101)))
    proposal = Goal(project=project, state=GoalState.PROPOSED, current_number=1)
    revision = GoalRevision(number=1, title=s.agreement, measure=MeasureKind.DONE_WHEN, done_when="1,000 signups",
                            target_date=today + timedelta(days=60), side=Side.CLIENT, created_at=now - timedelta(days=6))
    revision.signatures.append(GoalSignature(side=Side.CLIENT, user_id=client_user.id, implied=True, signed_at=now - timedelta(days=6)))
    proposal.revisions.append(revision)
    db.session.add_all([off, proposal])

    for title, status, version_status, submitted, settled in (
        (s.changes, DeliverableStatus.CHANGES_REQUESTED, VersionStatus.CHANGES_REQUESTED, 5, 3),
        (s.decision, DeliverableStatus.IN_REVIEW, VersionStatus.IN_REVIEW, 4, None),
    ):
        deliverable = Deliverable(project=project, title=title, status=status, current_number=1)
        deliverable.versions.append(
            DeliverableVersion(number=1, status=version_status, submitted_at=now - timedelta(days=submitted),
                               settled_at=now - timedelta(days=settled) if settled else None)
        )
        db.session.add(deliverable)

    db.session.add_all([
        AssetRequest(project=project, title=s.overdue, status=AssetRequestStatus.OPEN, due_date=today - timedelta(days=3)),
        AssetRequest(project=project, title=s.review, status=AssetRequestStatus.SUBMITTED, submitted_at=now - timedelta(days=1)),
    ])
    db.session.commit()
    return s


@pytest.fixture
def agency(world, make_project):
    """Two managers' work: each has a busy project and a quiet one, with one item of every kind."""
    own_quiet = make_project(world.own_org, world.manager, name="Quiet loyalty app")
    other_quiet = make_project(world.other_org, world.other_manager, name="Silent spring catalogue")
    own = seed_queue(world.project, world.own_client, "A", quiet=own_quiet)
    other = seed_queue(world.other_project, world.other_client, "B", quiet=other_quiet)
    return own, other


def test_each_kind_appears_for_its_manager_and_not_for_another(make_web, world, agency):
    """A manager's queue has every kind of item of their own projects and nothing of another manager's."""
    own, other = agency
    page = logged_in(make_web, world.manager).text("/")
    queue = words(queue_of(page))
    projects = words(page[page.index('id="projects-heading"') :])
    assert "Off track" in projects and "1 goal is off track" in projects  # the health badge of portal.health
    for heading in HEADINGS:
        assert heading in queue, heading
    for title in own.titles:
        assert title in queue, title
    assert "Ayşe Client has a concern" in queue and "The launch date worries us" in queue
    assert "Waiting for your signature" in queue and "Prefers a phone call" in queue
    assert not any(title in queue for title in other.titles)
    assert other.call_client not in queue


def test_groups_come_bad_news_first_and_items_oldest_first(make_web, world, agency):
    """Concerns lead and calls close the queue; within a group the longest-waiting item comes first."""
    now = utcnow()
    older = Deliverable(project=world.project, title="Older brochure", status=DeliverableStatus.IN_REVIEW, current_number=1)
    older.versions.append(DeliverableVersion(number=1, status=VersionStatus.IN_REVIEW, submitted_at=now - timedelta(days=12)))
    db.session.add(older)
    db.session.commit()
    queue = words(queue_of(logged_in(make_web, world.manager).text("/")))
    positions = [queue.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions)
    assert queue.index("Older brochure") < queue.index("Homepage design A")
    assert "Version 1 sent for review 2 weeks ago" in queue


def test_the_admin_sees_everyones_work_and_filters_by_manager(make_web, world, agency):
    """Admins see both managers' items; the manager filter narrows the queue; a bad filter is ignored, never a 500."""
    own, other = agency
    admin = logged_in(make_web, world.admin)
    everyone = words(queue_of(admin.text("/")))
    assert own.decision in everyone and other.decision in everyone and "Sarah Other" in everyone
    filtered = words(queue_of(admin.text(f"/?manager={world.other_manager.id}")))
    assert other.decision in filtered and own.decision not in filtered
    assert "Showing the projects of Sarah Other." in filtered
    for bad in ("abc", "-3", "0", "99999999999999999999999", "1e9"):
        page = admin.text(f"/?manager={bad}")
        assert own.decision in page and other.decision in page, bad
    # A manager cannot use the filter to look at another manager's work.
    mine = words(queue_of(logged_in(make_web, world.manager).text(f"/?manager={world.other_manager.id}")))
    assert own.decision in mine and other.decision not in mine


def test_every_link_of_the_queue_resolves(make_web, world, agency):
    """Each item links to the page where it is resolved, and every such page opens for the manager."""
    manager = logged_in(make_web, world.manager)
    links = sorted(set(re.findall(r'href="([^"]+)"', queue_of(manager.text("/")))))
    assert len(links) >= 10
    for link in links:
        assert manager.get(html.unescape(link).split("#")[0]).status_code == 200, link


def test_a_concern_leaves_the_queue_once_the_agency_answers_it(make_web, world, agency):
    """A staff comment on the update after the concern counts as the answer; a client's comment does not."""
    own, _ = agency
    update = db.session.query(Update).filter_by(title=own.concern).one()
    db.session.add(UpdateComment(update_id=update.id, author_id=world.own_client.id, body="Any news?"))
    db.session.commit()
    manager = logged_in(make_web, world.manager)
    assert own.concern in queue_of(manager.text("/"))
    db.session.add(UpdateComment(update_id=update.id, author_id=world.manager.id, body="We will call you today."))
    db.session.commit()
    queue = words(queue_of(manager.text("/")))
    assert own.concern not in queue and "Concerns raised by clients" not in queue


def test_a_long_group_shows_the_oldest_and_offers_the_rest(make_web, world, make_project):
    """Past the group's limit the page says how many more wait and shows them all on demand."""
    now = utcnow()
    for n in range(11):
        deliverable = Deliverable(project=world.project, title=f"Banner {n:02d}", status=DeliverableStatus.IN_REVIEW, current_number=1)
        deliverable.versions.append(DeliverableVersion(number=1, status=VersionStatus.IN_REVIEW, submitted_at=now - timedelta(days=20 - n)))
        db.session.add(deliverable)
    db.session.commit()
    manager = logged_in(make_web, world.manager)
    queue = words(queue_of(manager.text("/")))
    assert "Banner 00" in queue and "Banner 10" not in queue and "Show 3 more" in queue
    assert "Banner 10" in queue_of(manager.text("/?more=client_decision"))
    assert manager.get("/?more=nonsense").status_code == 200


def test_nothing_to_do_says_so_and_what_comes_next(make_web, world):
    """With nothing waiting, the queue says so and names the next weekly update to go out."""
    page = words(queue_of(logged_in(make_web, world.manager).text("/")))
    assert "Nothing needs you right now" in page
    assert f"Next: the weekly update of {world.project.name} goes out in" in page
    assert "Next weekly updates" in page


def test_a_client_never_sees_the_staff_queue_or_its_pages(make_web, world, agency):
    """A client's home has no staff queue, even asked with the staff parameters; staff pages refuse them."""
    client = logged_in(make_web, world.own_client)
    page = client.get(f"/?manager={world.manager.id}&more=concern")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Concerns raised by clients" not in body and "Calls to offer this week" not in body
    assert client.get(f"/projects/{world.project.id}/weekly").status_code == 403
    assert client.get(f"/projects/{world.project.id}/updates/new").status_code == 403
    assert client.get(f"/clients/{world.own_org.id}").status_code == 403


def _busy_projects(make_client, make_user, make_project, manager: User, size: int) -> None:
    """Give ``manager`` ``size`` projects, each with one item of every kind."""
    org = make_client(f"Org {manager.id}-{size}")
    person = make_user(Role.CLIENT, org)
    for n in range(size):
        project = make_project(org, manager, [(person, True)], name=f"Busy {manager.id}-{n}")
        quiet = make_project(org, manager, name=f"Quiet {manager.id}-{n}")
        seed_queue(project, person, f"{manager.id}-{n}", quiet=quiet)


@pytest.mark.parametrize("viewer", ["manager", "admin", "admin filtered"])
def test_the_home_runs_the_same_queries_for_5_and_50_projects(make_web, make_client, make_user, make_project, count_queries, viewer):
    """The queue and the project list do not query per project or per item, for managers and admins alike."""
    admin = make_user(Role.ADMIN)
    counts = []
    for size in (5, 50):
        manager = make_user(Role.MANAGER)
        _busy_projects(make_client, make_user, make_project, manager, size)
        user = manager if viewer == "manager" else admin
        url = f"/?manager={manager.id}" if viewer == "admin filtered" else "/"
        browser = logged_in(make_web, user)
        browser.text(url)  # warm up: sessions, caches
        with count_queries() as q:
            page = browser.text(url)
        assert "Concerns raised by clients" in page and "Calls to offer this week" in page
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_the_project_search_matches_names_and_takes_wildcards_literally(make_web, world, make_project):
    """Searching finds a project by its or its client's name; "%" and "_" are characters, not wildcards."""
    make_project(world.own_org, world.manager, name="Spring_sale 100%")
    browser = logged_in(make_web, world.manager)

    def listed(query: str) -> str:
        page = browser.text(f"/?q={query}")
        return page[page.index('id="projects-heading"') :]

    assert "E-commerce relaunch" in listed("relaunch") and "Spring_sale" not in listed("relaunch")
    assert "E-commerce relaunch" in listed(world.own_org.name.split()[0])  # by the client's name
    assert "Spring_sale 100%" in listed("100%25") and "E-commerce relaunch" not in listed("100%25")
    assert "E-commerce relaunch" not in listed("%25") and "E-commerce relaunch" not in listed("_")
