"""The staff home at scale: a fixed number of queries however many projects, the same queue whatever is stored."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import event

from portal.extensions import db
from portal.goals import stored
from portal.models import (
    AssetRequest,
    AssetRequestStatus,
    Goal,
    GoalCheckIn,
    GoalState,
    Project,
    ProjectStatus,
    Role,
    Update,
    UpdateKind,
    UpdateStatus,
    User,
)
from portal.timeutil import local_today, utcnow
from tests.integration.test_staff_home import logged_in, queue_of, seed_queue, words

# The most statements an admin's home runs in production's steady state (a manager's: 20): the
# session, the project list with its health (and the incidents it recovers from) and panels, and
# the attention queue (one statement per kind, and a few for the scope and the next weekly updates).
MOST_QUERIES = 22


def busy_projects(make_client, make_user, make_project, manager: User, size: int) -> None:
    """Give ``manager`` ``size`` projects with one item of every kind, and as many quiet ones."""
    org = make_client(f"Org {manager.id}-{size}")
    person = make_user(Role.CLIENT, org)
    for n in range(size):
        project = make_project(org, manager, [(person, True)], name=f"Busy {manager.id}-{n}")
        quiet = make_project(org, manager, name=f"Quiet {manager.id}-{n}")
        seed_queue(project, person, f"{manager.id}-{n}", quiet=quiet)


@pytest.mark.parametrize("viewer", ["manager", "admin", "admin filtered"])
def test_the_staff_home_runs_a_fixed_few_queries_from_3_to_30_projects(make_web, make_client, make_user, make_project, count_queries, viewer):
    """With the goal progress stored (production's steady state), the home's queries are as many for 6 projects as for 60."""
    admin = make_user(Role.ADMIN)
    counts = []
    for size in (3, 30):
        manager = make_user(Role.MANAGER)
        busy_projects(make_client, make_user, make_project, manager, size)
        stored.refresh(utcnow())
        user = manager if viewer == "manager" else admin
        url = f"/?manager={manager.id}" if viewer == "admin filtered" else "/"
        browser = logged_in(make_web, user)
        browser.text(url)  # warm up: sessions, caches
        with count_queries() as q:
            page = browser.text(url)
        queue = words(queue_of(page))
        assert "Goals off track" in queue and "Calls to offer this week" in queue and "Next weekly updates" in queue
        counts.append(q.count)
    assert counts[0] == counts[1] <= MOST_QUERIES, counts


def test_the_admin_home_reads_only_the_projects_it_shows(make_web, make_client, make_user, make_project):
    """Of a hundred projects the admin's home loads a page of them and those of the items shown, not all."""
    manager = make_user(Role.MANAGER)
    busy_projects(make_client, make_user, make_project, manager, 3)
    org = make_client("Many projects")
    for n in range(94):
        make_project(org, manager, name=f"Fresh {n:02d}")
    stored.refresh(utcnow())
    browser = logged_in(make_web, make_user(Role.ADMIN))
    loaded: set[int] = set()

    def on_load(project: Project, _context: object) -> None:
        loaded.add(project.id)

    event.listen(Project, "load", on_load)
    try:
        page = browser.text("/")
    finally:
        event.remove(Project, "load", on_load)
    assert "Goals off track" in page and ">100</span>" in page
    assert len(loaded) <= 30 + 6, len(loaded)  # the page of 30, and the six projects with items


def test_goals_not_stored_yet_are_counted_and_ordered_with_the_stored_ones(make_web, make_client, make_user, make_project):
    """A goal whose stored status went stale (a new check-in) is computed on the spot and ranks by how far behind it is."""
    manager = make_user(Role.MANAGER)
    busy_projects(make_client, make_user, make_project, manager, 2)
    stored.refresh(utcnow())
    _first, second = db.session.query(Goal).filter(Goal.state == GoalState.AGREED).order_by(Goal.id).all()
    today = local_today(second.project.timezone)
    db.session.add(GoalCheckIn(goal_id=second.id, revision_number=1, measured_on=today, value=Decimal(100)))  # further behind now
    db.session.commit()
    assert db.session.get(Goal, second.id).progress_on is None  # cleared with the check-in: not stored for today
    browser = logged_in(make_web, manager)
    queue = words(queue_of(browser.text("/")))
    group = queue[queue.index("Goals off track") : queue.index("Changes requested")]
    assert group.startswith("Goals off track 2 ")
    assert group.index(f"Online orders {manager.id}-1") < group.index(f"Online orders {manager.id}-0")
    stored.refresh(utcnow())
    assert words(queue_of(browser.text("/"))) == queue


def coming_up(page: str) -> list[str]:
    """Return the project names of the staff home's "Next weekly updates", in order."""
    section = page[page.index('id="coming-up-heading"') :]
    return re.findall(r'/weekly">([^<]+)</a>', section[: section.index("</ol>")])


def test_the_next_weekly_updates_come_by_moment_then_name_across_zones(make_web, make_client, make_user, make_project):
    """Each project's next slot in its own zone, soonest first; same moment: by name as written; sent early: the week after."""
    wednesday = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    manager = make_user(Role.MANAGER)
    org = make_client("Zone Org")
    for name, zone, weekday, hour in (
        ("Bravo", "UTC", 2, 12),
        ("alpha", "UTC", 2, 12),  # the same moment: "B" sorts before "a", as in Python
        ("Tokyo", "Asia/Tokyo", 2, 20),  # 11:00 UTC
        ("Early", "UTC", 2, 9),  # passed an hour ago: next Wednesday
        ("Sent", "UTC", 3, 9),  # tomorrow, but this week's update went out already
        ("Held", "UTC", 2, 11),
    ):
        project = make_project(org, manager, name=name, timezone=zone, weekly_weekday=weekday, weekly_hour=hour,
                               status=ProjectStatus.ON_HOLD if name == "Held" else ProjectStatus.ACTIVE)
        if name == "Sent":
            year, week, _ = wednesday.isocalendar()
            db.session.add(Update(project=project, kind=UpdateKind.WEEKLY, status=UpdateStatus.PUBLISHED, title="Weekly",
                                  published_at=wednesday - timedelta(hours=1), iso_year=year, iso_week=week))
            db.session.commit()
    with time_machine.travel(wednesday, tick=False):
        page = logged_in(make_web, manager).text("/")
    assert coming_up(page) == ["Tokyo", "Bravo", "alpha", "Early", "Sent"]


def test_overdue_requests_are_late_by_their_own_projects_day(make_web, make_client, make_user, make_project):
    """At 11:00 UTC it is already tomorrow in Kiritimati and still early morning in Los Angeles."""
    moment = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    manager = make_user(Role.MANAGER)
    org = make_client("Zone Org")
    islands = make_project(org, manager, name="Islands", timezone="Pacific/Kiritimati")
    coast = make_project(org, manager, name="Coast", timezone="America/Los_Angeles")
    for project, title, due in (
        (islands, "Island photos", date(2026, 12, 2)),  # it is Dec 3 there: one day late
        (coast, "Coast photos", date(2026, 12, 2)),  # due today there: not late
        (coast, "Coast logo", date(2026, 12, 1)),  # one day late
    ):
        db.session.add(AssetRequest(project=project, title=title, status=AssetRequestStatus.OPEN, due_date=due))
    db.session.commit()
    with time_machine.travel(moment, tick=False):
        queue = words(queue_of(logged_in(make_web, manager).text("/")))
    group = queue[queue.index("Overdue asset requests") :]
    assert group.startswith("Overdue asset requests 2 ")
    assert group.index("Coast logo") < group.index("Island photos") and "Coast photos" not in queue


@pytest.mark.parametrize("query", ["manager=abc", "manager=99999999999999", "manager=99999999999999999999", "manager=-1&page=abc",
                                   "page=99999999", "more=call&manager=abc", "more=nonsense", "q=%25&page=0"])
def test_bad_query_arguments_get_a_clean_page(make_web, world, query):
    """Whatever the query string, the admin's home answers 200 with the queue and the true project count."""
    admin = logged_in(make_web, world.admin)
    response = admin.get(f"/?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="queue-heading"' in page
    if query.startswith("page="):  # past the last page: nothing listed, the count still right
        assert re.search(r'id="projects-heading"[^>]*>Projects <span class="badge[^"]*">2</span>', page)

