"""What people type in updates, comments, answers, notes and names is never run as script."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.expectations import service as expectations_service
from portal.extensions import db
from portal.models import AckChoice, Update, UpdateKind
from portal.updates import service
from tests.e2e.pages import login_as, record_dialogs

MARKDOWN = (
    "<script>alert('body')</script>\n\n"
    "<img src=x onerror=alert('img')>\n\n"
    "[javascript link](javascript:alert('link')) [data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n"
    "<svg onload=alert('svg')></svg> <a href=\"javascript:alert('a')\">raw link</a>"
)
NAME = "<img src=x onerror=alert('name')>"
TITLE = "<script>alert('title')</script>"
COMMENT = "<img src=x onerror=alert('comment')>"


def assert_inert(page: Page, dialogs: list[str], where: str) -> None:
    """No dialog opened, and no element the payloads tried to create exists on the page."""
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("main svg[onload]")).to_have_count(0)
    expect(page.locator("a[href^='javascript:'], a[href^='data:']")).to_have_count(0)
    expect(page.locator("main script")).to_have_count(0)
    assert dialogs == [], f"script ran on {where}: {dialogs}"


def test_payloads_in_updates_comments_answers_notes_and_names_run_nothing(page: Page, new_context, live_server, world, runner):
    """Every page showing user text renders the payloads as text, for the client and for staff."""
    world.manager.name = NAME
    world.own_client.name = NAME
    world.own_org.name = NAME
    db.session.commit()
    update = service.save_update(
        world.manager, world.project, {"title": TITLE, "body": MARKDOWN, "done": MARKDOWN, "blockers": MARKDOWN, "needs": MARKDOWN}, publish=True
    )
    db.session.flush()
    service.add_comment(world.own_client, update, COMMENT)
    service.acknowledge(world.own_client, update, AckChoice.CONCERN, COMMENT)
    expectations_service.create_note(
        world.manager,
        world.project,
        {"expected": TITLE, "reality": COMMENT, "assessment": "worse", "impact": NAME, "variance": TITLE, "visibility": "shared"},
    )
    service.save_weekly_note(world.manager, world.project, MARKDOWN)
    db.session.commit()
    assert runner.invoke(args=["portal", "send-weekly", "--project", str(world.project.id), "--now"]).exit_code == 0
    db.session.expire_all()
    weekly = db.session.scalar(select(Update).where(Update.kind == UpdateKind.WEEKLY))
    db.session.rollback()
    base = live_server.url
    project = f"{base}/projects/{world.project.id}"

    client = new_context().new_page()
    client_dialogs = record_dialogs(client)
    login_as(client, base, world.own_client)
    for url in (project, f"{project}/updates", f"{project}/updates/{update.id}", f"{project}/updates/{weekly.id}", f"{project}/expectations/"):
        client.goto(url)
        assert_inert(client, client_dialogs, url)
    client.goto(f"{project}/updates/{update.id}")
    expect(client.get_by_role("heading", level=1)).to_have_text(TITLE)  # shown as typed
    expect(client.locator(".update-text").first).to_contain_text("<script>alert('body')</script>")

    staff_dialogs = record_dialogs(page)
    login_as(page, base, world.manager)
    for url in (project, f"{project}/updates/{update.id}", f"{project}/updates/{weekly.id}", f"{project}/weekly", f"{project}/expectations/", base + "/"):
        page.goto(url)
        assert_inert(page, staff_dialogs, url)
    page.goto(f"{project}/updates/{update.id}")
    expect(page.locator(f"#acknowledgements-{update.id}")).to_contain_text(COMMENT)
