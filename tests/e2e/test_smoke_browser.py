import re

from playwright.sync_api import Page, expect

from tests.e2e.pages import login_as


def test_manager_logs_in_and_sees_project(page: Page, live_server, world):
    """A manager logs in through the form and sees the project they manage, and not a colleague's."""
    login_as(page, live_server.url, world.manager)
    projects = page.get_by_role("region", name=re.compile("^Projects"))
    expect(projects.get_by_role("link", name="E-commerce relaunch")).to_be_visible()
    expect(page.get_by_role("link", name="Spring catalogue")).to_have_count(0)
