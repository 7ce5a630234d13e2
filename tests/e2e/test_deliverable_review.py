"""The story of a deliverable: version 1 with a file, changes requested with a reason, version 2, approval, and the record."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from portal.deliverables import service
from portal.extensions import db
from tests.e2e.pages import login_as
from tests.e2e.test_accessibility import blocking_violations, describe


def mock_up(path: Path, colour: tuple[int, int, int]) -> Path:
    """Write a small PNG design to ``path``."""
    out = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def prepare_and_submit(page: Page, base: str, deliverable_id: int, number: int, file: Path, notes: str) -> None:
    """As staff: start version ``number``, upload ``file`` by the upload area, write the notes and submit."""
    page.goto(f"{base}/deliverables/{deliverable_id}")
    page.get_by_role("button", name=f"Prepare version {number}").click()
    expect(page.get_by_role("heading", name=f"Prepare version {number}", level=1)).to_be_visible()
    page.get_by_label("Choose files").set_input_files(str(file))
    expect(page.get_by_role("status").filter(has_text="Your files are uploaded.")).to_be_visible()
    page.get_by_role("link", name="Show them on the page").click()
    expect(page.get_by_role("link", name=file.name)).to_be_visible()
    page.get_by_label("What changed").fill(notes)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status").filter(has_text=f"Version {number} is submitted for review.")).to_be_visible()


def test_a_deliverable_goes_from_changes_requested_to_approved(page: Page, new_context, live_server, world, app, tmp_path):
    """Manager submits v1 with a file; the client asks for changes with a reason; v2 with notes; the client approves."""
    base = live_server.url
    with app.test_request_context():
        deliverable = service.create_deliverable(world.manager, world.project, title="Homepage design", description="Desktop and phone layouts")
        db.session.commit()
        deliverable_id = deliverable.id

    # The manager submits version 1 with a mock-up.
    login_as(page, base, world.manager)
    prepare_and_submit(page, base, deliverable_id, 1, mock_up(tmp_path / "homepage-v1.png", (200, 40, 40)), "First design.")

    # The client sees it waiting for their review, opens it and asks for changes with a reason.
    client = new_context().new_page()
    login_as(client, base, world.own_client)
    waiting = client.get_by_role("region", name="Needs your attention")
    expect(waiting).to_contain_text("Deliverable to review")
    waiting.get_by_role("link", name="Homepage design, version 1").click()
    expect(client.get_by_role("heading", name="Version 1", level=2, exact=True)).to_be_visible()
    expect(client.get_by_role("link", name="homepage-v1.png", exact=True)).to_be_visible()
    violations = blocking_violations(client)
    assert not violations, f"axe-core found serious problems on the review page:\n{describe(violations)}"
    client.get_by_role("combobox", name="Reason").select_option(label="Quality")
    client.get_by_label("What should change?").fill("The logo is too small on phones.")
    client.get_by_role("button", name="Request changes").click()
    expect(client.get_by_role("status").filter(has_text="Your request for changes on version 1 is recorded")).to_be_visible()

    # The manager reads the reason and submits version 2 with notes on what changed.
    page.goto(f"{base}/deliverables/{deliverable_id}")
    expect(page.get_by_role("region", name="History")).to_contain_text("The logo is too small on phones.")
    prepare_and_submit(page, base, deliverable_id, 2, mock_up(tmp_path / "homepage-v2.png", (40, 160, 60)), "Bigger logo on phones.")

    # The client approves version 2 (after confirming: it locks the deliverable).
    client.goto(f"{base}/deliverables/{deliverable_id}")
    expect(client.get_by_role("region", name="Version 2", exact=True)).to_contain_text("Bigger logo on phones.")
    client.once("dialog", lambda dialog: dialog.accept())
    client.get_by_role("button", name="Approve version 2").click()
    expect(client.get_by_role("status").filter(has_text="your approval of version 2 is recorded")).to_be_visible()

    # The history shows both decisions with their reasons.
    history = client.get_by_role("region", name="History")
    expect(history.locator("#version-1")).to_contain_text("Changes requested by Ayşe Client")
    expect(history.locator("#version-1")).to_contain_text("Reason: Quality")
    expect(history.locator("#version-1")).to_contain_text("The logo is too small on phones.")
    expect(history.locator("#version-2")).to_contain_text("Approved by Ayşe Client")
    expect(client.get_by_role("button", name="Approve version 2")).to_have_count(0)
    client.goto(f"{base}/")
    expect(client.get_by_role("region", name="Needs your attention")).not_to_contain_text("Homepage design")

    # The manager's home shows the approval.
    page.goto(f"{base}/")
    decisions = page.get_by_role("region", name="Recently approved")
    newest = decisions.get_by_role("listitem").first
    expect(newest).to_contain_text("Ayşe Client approved")
    expect(newest).to_contain_text("version 2")
    expect(newest.get_by_role("link", name="Homepage design")).to_have_attribute("href", re.compile(rf"^/deliverables/{deliverable_id}#decision-\d+$"))
