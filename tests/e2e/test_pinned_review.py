"""The story of a pinned review: pins on a PNG and on page 2 of a PDF, changes requested with them, version 2, one pin addressed, compare, approve."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from portal.deliverables import service
from portal.extensions import db
from tests.e2e.pages import horizontal_overflow, login_as
from tests.e2e.test_accessibility import blocking_violations, describe


def design(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (400, 300)) -> Path:
    """Write a PNG design to ``path``."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def brochure(path: Path) -> Path:
    """Write a two-page PDF to ``path``."""
    sheets = [Image.new("RGB", (600, 800), colour) for colour in ("white", "lightyellow")]
    sheets[0].save(path, "PDF", save_all=True, append_images=sheets[1:], resolution=72)
    return path


def submit_version(page: Page, base: str, deliverable_id: int, number: int, files: list[Path], notes: str) -> None:
    """As staff: prepare version ``number`` with ``files`` through the upload area, and submit it."""
    page.goto(f"{base}/deliverables/{deliverable_id}")
    page.get_by_role("button", name=f"Prepare version {number}").click()
    page.get_by_label("Choose files").set_input_files([str(f) for f in files])
    expect(page.get_by_role("status").filter(has_text="Your files are uploaded.")).to_be_visible()
    page.get_by_role("link", name="Show them on the page").click()
    for file in files:
        expect(page.get_by_role("link", name=file.name)).to_be_visible()
    page.get_by_label("What changed").fill(notes)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status").filter(has_text=f"Version {number} is submitted for review.")).to_be_visible()


def open_review(page: Page, name: str) -> None:
    """From the deliverable page, open a file with its pins and wait until its preview shows."""
    page.get_by_role("link", name=f"Review “{name}” with pins").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.locator("[data-pin-canvas] img").first).to_be_visible(timeout=20_000)  # the page reloads itself once the preview is ready


def test_pins_on_a_png_and_a_pdf_page_go_with_the_request_carry_over_and_compare(page: Page, new_context, live_server, world, app, tmp_path):
    """The manager sends a PNG and a two-page PDF; the client pins both, asks for changes with the pins; v2; compare; approve."""
    app.config["PREVIEW_RENDERING"] = "thread"  # as in production: previews render right after the upload
    base = live_server.url
    with app.test_request_context():
        deliverable = service.create_deliverable(world.manager, world.project, title="Spring campaign")
        db.session.commit()
        deliverable_id = deliverable.id

    login_as(page, base, world.manager)
    submit_version(page, base, deliverable_id, 1, [design(tmp_path / "hero.png", (200, 40, 40)), brochure(tmp_path / "brochure.pdf")], "First round.")

    # The client pins a spot on the image with the mouse…
    client = new_context().new_page()
    login_as(client, base, world.own_client)
    client.goto(f"{base}/deliverables/{deliverable_id}")
    open_review(client, "hero.png")
    client.locator("[data-pin-canvas]").first.click(position={"x": 100, "y": 75})
    expect(client.locator("[data-pin-spot]")).to_have_text("Spot chosen on page 1: 25% across, 25% down.")
    expect(client.get_by_label("Your comment")).to_be_focused()
    client.get_by_label("Your comment").fill("Make the logo twice as big.")
    client.get_by_role("button", name="Place pin").click()
    expect(client.get_by_role("status").filter(has_text="Pin 1 is placed.")).to_be_visible()
    expect(client.locator("#pin-1")).to_contain_text("page 1, 25% across, 25% down")
    violations = blocking_violations(client)
    assert not violations, f"axe-core found serious problems on the pinned review page:\n{describe(violations)}"

    # …and one on page 2 of the PDF with the keyboard only.
    client.goto(f"{base}/deliverables/{deliverable_id}")
    open_review(client, "brochure.pdf")
    second_page = client.get_by_role("group", name="Page 2 of 2: click a spot, or use the arrow keys and press Enter, to place a pin there")
    second_page.focus()
    client.keyboard.press("ArrowRight")  # the spot appears in the middle
    client.keyboard.press("ArrowRight")
    client.keyboard.press("Enter")
    expect(client.locator("[data-pin-spot]")).to_have_text("Spot chosen on page 2: 52% across, 50% down.")
    client.keyboard.type("The phone number is wrong.")
    client.get_by_role("button", name="Place pin").click()
    expect(client.locator("#pin-2")).to_contain_text("page 2, 52% across, 50% down")

    # On a phone the pins list sits below the page and nothing scrolls sideways.
    client.set_viewport_size({"width": 375, "height": 800})
    assert horizontal_overflow(client) == 0
    client.set_viewport_size({"width": 1280, "height": 900})

    # The client requests changes with both pins and no other text.
    client.goto(f"{base}/deliverables/{deliverable_id}")
    expect(client.get_by_label("Pin 1 (hero.png): Make the logo twice as big.")).to_be_checked()
    expect(client.get_by_label("Pin 2 (brochure.pdf): The phone number is wrong.")).to_be_checked()
    client.get_by_role("combobox", name="Reason").select_option(label="Quality")
    client.get_by_role("button", name="Request changes").click()
    expect(client.get_by_role("status").filter(has_text="Your request for changes on version 1 is recorded")).to_be_visible()
    expect(client.get_by_role("region", name="History")).to_contain_text("Sent with pins: 1, 2")

    # The manager submits version 2 and marks pin 1 addressed; pin 2 stays open.
    (tmp_path / "v2").mkdir()
    submit_version(page, base, deliverable_id, 2, [design(tmp_path / "v2" / "hero.png", (40, 160, 60))], "Bigger logo.")
    carried = page.get_by_role("region", name="Pins from earlier versions")
    expect(carried).to_contain_text("Not checked yet")
    carried.locator("#carried-pin-1").get_by_role("button", name="Addressed in version 2").click()
    expect(page.get_by_role("status").filter(has_text="Pin 1 is addressed in version 2 and resolved.")).to_be_visible()

    # The client compares the versions (same size: the overlay slider), sees what was addressed, and approves.
    client.goto(f"{base}/deliverables/{deliverable_id}")
    expect(client.get_by_role("region", name="Pins from earlier versions")).to_contain_text("Addressed in version 2")
    open_review(client, "hero.png")  # waits until version 2's preview is ready
    client.get_by_role("link", name="Compare versions").click()
    expect(client.get_by_role("heading", name="Version 1 and version 2", level=1)).to_be_visible()
    slider = client.get_by_label("Version 1 ← → version 2")
    expect(slider).to_be_visible()
    slider.fill("20")
    expect(client.locator("[data-compare-top]")).to_have_css("clip-path", "inset(0px 0px 0px 20%)")
    client.goto(f"{base}/deliverables/{deliverable_id}")
    client.once("dialog", lambda dialog: dialog.accept())
    client.get_by_role("button", name="Approve version 2").click()
    expect(client.get_by_role("status").filter(has_text="your approval of version 2 is recorded")).to_be_visible()
