"""Words on the pages and in the emails (issue 11): durations, times, week labels, numbers, promises and lists.

Each test reads what a person reads — the page or the email — in English and, where the
language changes the wording, in Turkish.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail, ProjectStatus, Update, UpdateKind
from portal.timeutil import utcnow
from portal.updates.dispatch import dispatch_weekly
from tests.integration.goals_support import agreed_goal, propose

AGREED = datetime(2026, 10, 1, 7, tzinfo=UTC)
SLOT = datetime(2026, 11, 23, 6, tzinfo=UTC)  # Monday 09:00 in Istanbul (ISO week 2026-W48)


def at(moment: datetime):
    """Freeze the clock at ``moment``."""
    return time_machine.travel(moment, tick=False)


def logged_in(make_web, user):
    """Return a browser logged in as ``user``."""
    browser = make_web()
    browser.login(user)
    return browser


def attention_block(page: str) -> str:
    """Return the "Needs your attention" part of the client's home."""
    return page[page.index('id="attention-heading"') : page.index('id="projects-heading"')]


def weekly_updates(project) -> list[Update]:
    """Return the project's weekly updates, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(select(Update).where(Update.project_id == project.id, Update.kind == UpdateKind.WEEKLY).order_by(Update.id)))


@pytest.fixture
def old_project(world):
    """The world's project, old enough to have had every weekly slot."""
    world.project.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    return world.project


# --- Durations: "Waiting for 1 month", never "Waiting 1 month ago" ---------------------------------


@pytest.mark.parametrize(("language", "expected", "wrong"), [("en", "Waiting for ", " ago"), ("tr", " süredir bekliyor", " önce")])
def test_the_client_home_says_how_long_an_item_has_waited(make_web, world, language, expected, wrong):
    """A goal proposed five weeks ago waits "for 1 month" in the client's attention list: a duration, not a moment."""
    world.own_client.language = language
    db.session.commit()
    with at(SLOT - timedelta(days=35)):
        propose(world.manager, world.project, title="More online orders", assumptions=[])
    with at(SLOT):
        block = attention_block(logged_in(make_web, world.own_client).text("/"))
    assert expected in block
    duration = re.search(r"<time [^>]*>([^<]+)</time>", block)
    assert duration and duration.group(1) in ("1 month", "1 ay"), block
    assert wrong not in block


# --- Times without seconds ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "tr"])
def test_times_print_without_seconds(make_web, world, old_project, language):
    """The staff home's next sends and a goal's history give hours and minutes ("9:00 AM", "09:00"), never seconds."""
    world.manager.language = language
    db.session.commit()
    with at(AGREED):
        goal = agreed_goal(world.manager, world.own_client, old_project, title="More online orders")
    with at(SLOT - timedelta(days=1)):
        manager = logged_in(make_web, world.manager)
        home = manager.text("/")
        history = manager.text(f"/goals/{goal.id}/history")
        preview = manager.text(f"/projects/{old_project.id}/weekly")
    coming = home[home.index('id="coming-up-heading"') :]
    assert re.search(r"\b0?9[:.]00\b", coming), coming[:600]
    for page in (coming, history, preview):
        shown = re.sub(r'datetime="[^"]*"', "", page)  # what people read (hover titles too), not the machine-readable attribute
        assert not re.search(r"\d{1,2}:\d{2}:\d{2}", shown), re.findall(r".{40}\d{1,2}:\d{2}:\d{2}.{10}", shown)


# --- Separators keep their spaces ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "tr"])
def test_the_staff_queue_puts_spaces_around_its_separators(make_web, world, language):
    """An admin's queue reads "Anadolu Kahve · E-commerce relaunch · Can Manager", not "relaunch· Can"."""
    world.admin.language = language
    db.session.commit()
    propose(world.manager, world.project, title="More online orders", assumptions=[])
    page = logged_in(make_web, world.admin).text("/")
    queue = page[page.index('id="queue-heading"') :]
    assert "E-commerce relaunch · Can Manager" in " ".join(queue.split())
    assert not re.search(r"\w·", queue)


# --- Expected values: rounded as the preview rounds them -----------------------------------------------------


def test_expected_values_print_with_two_decimals_on_pages_and_in_the_email(make_web, world, old_project):
    """The line from 120 to 200 orders expects 167.1111 on 23 November: everyone reads "167.11 orders"."""
    with at(AGREED):
        goal = agreed_goal(world.manager, world.own_client, old_project, title="More online orders", assumptions=[],
                           baseline=Decimal(120), target=Decimal(200), unit="orders", target_date=date(2026, 12, 30))
    from portal.goals import service

    with at(SLOT - timedelta(days=3)):
        service.record_check_in(world.manager, goal, measured_on=date(2026, 11, 20), value=Decimal("130.5"))
        db.session.commit()
    with at(SLOT + timedelta(minutes=1)):
        dispatch_weekly(utcnow(), project_id=old_project.id)
        client = logged_in(make_web, world.own_client)
        goal_page = client.text(f"/goals/{goal.id}")
        goals_page = client.text(f"/projects/{old_project.id}/goals")
        update = weekly_updates(old_project)[-1]
        update_page = client.text(f"/projects/{old_project.id}/updates/{update.id}")
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "weekly", OutboxEmail.user_id == world.own_client.id))
    assert 'data-figure="expected">167.11 orders<' in goal_page
    assert "expected 167.11 orders" in goals_page
    assert "36.61 orders behind plan" in goal_page  # 167.1111 − 130.5, rounded like the expectation
    for text in (goal_page, goals_page, update_page, email.text_body, email.html_body):
        assert "167.11 orders" in text
        assert "167.1111" not in text and "36.6111" not in text
    assert "130.5 orders" in goal_page  # what people entered is shown as entered


# --- Turkish numbers: one decimal separator in one sentence ----------------------------------------------------


def test_a_turkish_weekly_sentence_uses_the_turkish_decimal_comma_throughout(make_web, world, old_project):
    """"Planın 37,11 sipariş gerisinde (planlanan değişimin %46,4 kadarı)": no "%46.4" beside "37,11"."""
    world.own_client.language = "tr"
    db.session.commit()
    with at(AGREED):
        goal = agreed_goal(world.manager, world.own_client, old_project, title="Online siparişler", assumptions=[],
                           baseline=Decimal(120), target=Decimal(200), unit="orders", target_date=date(2026, 12, 30))
    from portal.goals import service

    with at(SLOT - timedelta(days=3)):
        service.record_check_in(world.manager, goal, measured_on=date(2026, 11, 20), value=Decimal(130))
        db.session.commit()
    with at(SLOT + timedelta(minutes=1)):
        dispatch_weekly(utcnow(), project_id=old_project.id)
        client = logged_in(make_web, world.own_client)
        update = weekly_updates(old_project)[-1]
        page = client.text(f"/projects/{old_project.id}/updates/{update.id}")
        goal_page = client.text(f"/goals/{goal.id}")
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "weekly", OutboxEmail.user_id == world.own_client.id))
    for text in (page, email.text_body):
        lines = [line for line in text.splitlines() if "Online siparişler" in line and "yoldan çıktı" in line]
        assert len(lines) == 1, [line for line in text.splitlines() if "Online siparişler" in line]
        sentence = lines[0]
        assert "%46,4" in sentence and "37,11" in sentence, sentence
        assert not re.search(r"\d\.\d", sentence), sentence
    assert "%46,4" in goal_page and "167,11" in goal_page


# --- Week labels: the Monday of the ISO week, for every project ------------------------------------------------


def test_every_project_labels_a_week_by_its_monday(make_web, world, make_project):
    """A Tuesday project and a Sunday project both call ISO week 2026-W49 "the week of November 30, 2026"."""
    tuesday = make_project(world.own_org, world.manager, [(world.own_client, True)], name="Tuesday project", weekly_weekday=1)
    sunday = make_project(world.own_org, world.manager, [(world.own_client, True)], name="Sunday project", weekly_weekday=6)
    for project in (tuesday, sunday):
        project.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    with at(datetime(2026, 12, 1, 6, 1, tzinfo=UTC)):  # Tuesday 09:01 in Istanbul
        dispatch_weekly(utcnow(), project_id=tuesday.id)
    with at(datetime(2026, 12, 6, 6, 1, tzinfo=UTC)):  # Sunday 09:01
        dispatch_weekly(utcnow(), project_id=sunday.id)
        client = logged_in(make_web, world.own_client)
        for project in (tuesday, sunday):
            (update,) = weekly_updates(project)
            assert (update.iso_year, update.iso_week) == (2026, 49)
            assert "Weekly update, week of November 30, 2026" in client.text(f"/projects/{project.id}/updates/{update.id}")
            assert "Week of November 30, 2026" in logged_in(make_web, world.manager).text(f"/projects/{project.id}/expectations/")
    subjects = db.session.scalars(select(OutboxEmail.subject).where(OutboxEmail.kind == "weekly", OutboxEmail.user_id == world.own_client.id)).all()
    assert sorted(subjects) == [
        "Weekly update: Sunday project, week of November 30, 2026",
        "Weekly update: Tuesday project, week of November 30, 2026",
    ]


# --- "Next weekly updates" after an update sent early ----------------------------------------------------------


def test_a_weekly_update_sent_early_moves_the_project_to_next_weeks_slot(make_web, world, old_project, runner):
    """Sent at 08:00 on Monday (before its 09:00 slot), the update of this week is done: the lists show next Monday."""
    early = datetime(2026, 11, 30, 5, tzinfo=UTC)  # Monday 08:00 in Istanbul, week 2026-W49
    with at(early):
        dispatch_weekly(utcnow(), project_id=old_project.id, force=True)
    assert (weekly_updates(old_project)[-1].iso_year, weekly_updates(old_project)[-1].iso_week) == (2026, 49)
    with at(early + timedelta(minutes=5)):
        manager = logged_in(make_web, world.manager)
        home = manager.text("/")
        preview = manager.text(f"/projects/{old_project.id}/weekly")
    coming = home[home.index('id="coming-up-heading"') :]
    assert "Dec 7, 2026" in coming and "Nov 30, 2026" not in coming, coming[:800]
    assert "December 7, 2026" in preview and "week of December 7, 2026" in preview


# --- No promise a finished project will not keep -------------------------------------------------------------------


@pytest.mark.parametrize("finished", ["completed", "archived"])
def test_a_finished_project_promises_no_weekly_writing(make_web, world, finished):
    """A completed or archived project without updates says none were posted, not that the manager writes every week."""
    if finished == "completed":
        world.project.status = ProjectStatus.COMPLETED
    else:
        world.project.archived_at = utcnow()
    db.session.commit()
    client = logged_in(make_web, world.own_client)
    pages = [client.text(f"/projects/{world.project.id}"), client.text(f"/projects/{world.project.id}/updates")]
    if finished == "completed":  # an archived project leaves the client's home
        pages.append(client.text("/"))
    for page in pages:
        assert "No updates were posted." in page
        assert "writes every week" not in page and "arrives even in a quiet week" not in page
    log = client.text(f"/projects/{world.project.id}/expectations/")
    assert "Nothing was logged for this project." in log and "next weekly update" not in log


def test_an_active_project_still_promises_its_weekly_update(make_web, world):
    """The promise stays where it is kept: an active project without updates."""
    home = logged_in(make_web, world.own_client).text("/")
    assert "None yet: your account manager writes every week." in home


# --- The time zone list ----------------------------------------------------------------------------------------------


def zone_options(page: str) -> list[str]:
    """Return the values of the time zone select's options."""
    select_html = page[page.index('id="profile-timezone"') :]
    select_html = select_html[: select_html.index("</select>")]
    return re.findall(r'<option[^>]*value="([^"]+)"', select_html)


def test_the_time_zone_list_is_grouped_by_region_and_has_no_aliases(web, world):
    """The account page offers current zones only, under their region, with readable city names."""
    web.login(world.own_client)
    page = web.text("/account/")
    options = zone_options(page)
    assert "UTC" in options and "Europe/Istanbul" in options and "America/Argentina/Buenos_Aires" in options
    for alias in ("US/Eastern", "Etc/GMT+3", "Turkey", "GB", "Europe/Istanbul "):
        assert alias not in options
    assert not [name for name in options if name.startswith(("Etc/", "US/", "SystemV/", "Brazil/", "Canada/", "Mexico/"))]
    assert not [name for name in options if "/" not in name and name != "UTC"]
    assert len(options) < 450  # of ~600 names, aliases included
    select_html = page[page.index('id="profile-timezone"') :]
    assert re.search(r'<optgroup label="America">.*?<option[^>]*value="America/New_York"[^>]*>New York</option>', select_html, re.S)
    assert '<option value="America/Argentina/Buenos_Aires">Argentina / Buenos Aires</option>' in select_html


def test_the_region_names_are_in_turkish(web, world):
    """A Turkish reader sees "Amerika", "Avrupa"… above the cities."""
    world.own_client.language = "tr"
    db.session.commit()
    web.login(world.own_client)
    page = web.text("/account/")
    assert '<optgroup label="Avrupa">' in page and '<optgroup label="Amerika">' in page


def test_a_stored_alias_is_still_shown_and_accepted(web, world):
    """Someone who chose "US/Eastern" before sees it selected, and saving the page keeps it."""
    world.own_client.timezone = "US/Eastern"
    db.session.commit()
    web.login(world.own_client)
    page = web.text("/account/")
    assert re.search(r'<option[^>]*selected[^>]*value="US/Eastern"|<option[^>]*value="US/Eastern"[^>]*selected', page)
    response = web.post("/account/", {"profile-name": world.own_client.name, "profile-language": "en", "profile-timezone": "US/Eastern"})
    assert response.status_code == 302
    db.session.expire_all()
    assert world.own_client.timezone == "US/Eastern"


@pytest.mark.parametrize("finished", ["completed", "client archived", "active"])
def test_the_about_card_names_a_weekly_slot_only_where_one_is_kept(make_web, world, finished):
    """"Weekly update: Monday at 09:00" only on a project that still gets one; its client archived counts as finished."""
    if finished == "completed":
        world.project.status = ProjectStatus.COMPLETED
    elif finished == "client archived":
        world.own_org.archived_at = utcnow()
    db.session.commit()
    page = logged_in(make_web, world.manager).text(f"/projects/{world.project.id}")
    slot = f"at {world.project.weekly_hour:02d}:00 ({world.project.timezone})"
    if finished == "active":
        assert slot in page
    else:
        assert slot not in page and "None: weekly updates are sent for planned and active projects only." in page
