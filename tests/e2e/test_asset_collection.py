"""The asset collection story in a browser: request, upload with progress, return with a note, new version, accept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import horizontal_overflow, login_as
from tests.e2e.test_accessibility import blocking_violations, describe
from tests.integration.asset_helpers import HTML, png_bytes


def upload_by_file_input(page: Page, path: Path) -> None:
    """Choose a file with the labelled file input (as a keyboard or screen reader user would) and wait for 100%."""
    page.get_by_label("Choose files", exact=True).set_input_files(str(path))
    bar = page.get_by_role("progressbar", name=path.name)
    expect(bar).to_have_attribute("value", "100")
    expect(page.locator(".upload-item").filter(has_text=path.name)).to_contain_text("Uploaded")
    expect(page.get_by_role("status").filter(has_text="Your files are uploaded.")).to_be_visible()


def test_manager_requests_a_logo_and_the_client_delivers_it(page: Page, new_context, live_server, world, tmp_path):
    """Request → upload (progress to 100%) → return with a note → second version → accept → the checklist shows it done."""
    base = live_server.url
    first_logo = tmp_path / "logo.png"
    first_logo.write_bytes(png_bytes(640, 480))
    second_logo = tmp_path / "logo-vector-export.png"
    second_logo.write_bytes(png_bytes(1200, 900, colour=(10, 10, 10)))

    # The manager asks for a logo.
    login_as(page, base, world.manager)
    page.goto(f"{base}/projects/{world.project.id}")
    page.get_by_role("link", name="Request files").click()
    page.get_by_label("What do you need?").fill("Logo")
    page.get_by_label("Instructions").fill("Your logo, as large as you have it.")
    page.get_by_label("Images and design files").check()
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Logo")
    request_url = page.url

    # The client finds it on their checklist and uploads a PNG with the file input.
    client = new_context().new_page()
    login_as(client, base, world.own_client)
    needs = client.get_by_role("region", name="Needs your attention")
    expect(needs).to_contain_text("Files requested")
    needs.get_by_role("link", name="Logo", exact=True).click()
    upload_by_file_input(client, first_logo)
    client.get_by_role("link", name="Show them on the page").click()
    expect(client.get_by_role("link", name="logo.png")).to_be_visible()
    expect(client.get_by_text("Provided, in review")).to_be_visible()

    # The manager returns it with a note.
    page.goto(request_url)
    expect(page.get_by_role("link", name="logo.png")).to_be_visible()
    page.get_by_label("What should the client change?").fill("The logo must be a vector file: export it again at full size.")
    page.get_by_role("button", name="Return with note").click()
    expect(page.get_by_role("status").filter(has_text="Returned with your note.")).to_be_visible()

    # The client reads the note and uploads a second version.
    client.reload()
    expect(client.get_by_text("The logo must be a vector file: export it again at full size.").first).to_be_visible()
    expect(client.get_by_role("heading", name="Upload version 2")).to_be_visible()
    upload_by_file_input(client, second_logo)

    # The manager accepts version 2; version 1 stays listed.
    page.reload()
    expect(page.get_by_role("heading", name="Version 2", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Version 1", exact=True)).to_be_visible()
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Accepted. The client has been told.")).to_be_visible()

    # The client's checklist shows it done.
    client.goto(f"{base}/projects/{world.project.id}")
    checklist = client.get_by_role("region", name="What we need from you")
    expect(checklist).to_contain_text("1 of 1 provided")
    expect(checklist.get_by_role("listitem").filter(has_text="Logo")).to_contain_text("Done")


def test_a_refused_file_is_explained_next_to_it(page: Page, live_server, world, tmp_path):
    """A page that is not really a PNG is refused with the server's reason; nothing is listed."""
    from portal.assets import service
    from portal.extensions import db

    asset_request = service.create_request(world.manager, world.project, title="Logo", kinds=["images"])
    db.session.commit()
    fake = tmp_path / "logo.png"
    fake.write_bytes(HTML)
    too_odd = tmp_path / "notes.exe"
    too_odd.write_bytes(b"MZ" + b"\x00" * 100)
    login_as(page, live_server.url, world.own_client)
    page.goto(f"{live_server.url}/assets/requests/{asset_request.id}")
    page.get_by_label("Choose files", exact=True).set_input_files([str(fake), str(too_odd)])
    expect(page.locator(".upload-item").filter(has_text="notes.exe")).to_contain_text("This type of file is not accepted here.")
    expect(page.locator(".upload-item").filter(has_text="logo.png")).to_contain_text("is not really a .png file")
    expect(page.get_by_role("status").filter(has_text="Some files were not uploaded")).to_be_visible()
    page.reload()
    expect(page.get_by_text("No files yet")).to_be_visible()


@pytest.mark.parametrize("who", ["own_client", "manager"])
def test_request_pages_have_no_serious_accessibility_violation(page: Page, live_server, world, who):
    """Axe-core finds nothing serious on a request page with files and versions, for the client and for staff."""
    from portal.assets import service
    from portal.extensions import db
    from tests.integration.asset_helpers import store_file

    asset_request = service.create_request(world.manager, world.project, title="Logo", kinds=["images"], instructions="As large as you have it")
    store_file(world.own_client, world.project, asset_request, png_bytes(), "logo.png")
    db.session.commit()
    login_as(page, live_server.url, getattr(world, who))
    for path in (f"/assets/requests/{asset_request.id}", f"/projects/{world.project.id}/assets", f"/projects/{world.project.id}"):
        page.goto(live_server.url + path)
        violations = blocking_violations(page)
        assert not violations, f"axe-core found serious problems on {path}:\n{describe(violations)}"
    if who == "manager":
        page.goto(f"{live_server.url}/projects/{world.project.id}/assets/requests/new")
        violations = blocking_violations(page)
        assert not violations, describe(violations)


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_uploading_works_on_a_phone(page: Page, live_server, world, tmp_path):
    """On a phone the request page does not scroll sideways and the file input uploads."""
    from portal.assets import service
    from portal.extensions import db

    asset_request = service.create_request(world.manager, world.project, title="Photos of the shop front, as many as you have", kinds=["images"])
    db.session.commit()
    photo = tmp_path / f"{'very-long-file-name-' * 6}.png"
    photo.write_bytes(png_bytes())
    login_as(page, live_server.url, world.own_client)
    page.goto(f"{live_server.url}/assets/requests/{asset_request.id}")
    assert horizontal_overflow(page) == 0, "the request page scrolls sideways on a phone"
    upload_by_file_input(page, photo)
    assert horizontal_overflow(page) == 0, "the upload list scrolls sideways on a phone"
    expect(page.get_by_role("link", name=re.compile("Show them"))).to_be_visible()


def test_files_dropped_on_the_box_upload_too(page: Page, live_server, world):
    """Dragging a file onto the upload box sends it like the file input does, with its own progress bar."""
    import base64

    from portal.assets import service
    from portal.extensions import db

    asset_request = service.create_request(world.manager, world.project, title="Photos", kinds=["images"])
    db.session.commit()
    login_as(page, live_server.url, world.own_client)
    page.goto(f"{live_server.url}/assets/requests/{asset_request.id}")
    zone = page.locator("[data-drop-zone]")
    zone.evaluate(
        """(zone, data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "shop-front.png", {type: "image/png"}));
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        base64.b64encode(png_bytes(300, 200)).decode(),
    )
    expect(page.get_by_role("progressbar", name="shop-front.png")).to_have_attribute("value", "100")
    page.get_by_role("link", name="Show them on the page").click()
    expect(page.get_by_role("link", name="shop-front.png")).to_be_visible()


def test_a_file_chosen_before_the_upload_script_starts_is_still_sent(page: Page, live_server, world, tmp_path):
    """On a slow connection the user may pick a file before uploads.js runs: it is uploaded once the script starts."""
    from portal.assets import service
    from portal.extensions import db

    asset_request = service.create_request(world.manager, world.project, title="Logo", kinds=["images"])
    db.session.commit()
    logo = tmp_path / "early-logo.png"
    logo.write_bytes(png_bytes())
    login_as(page, live_server.url, world.own_client)
    # Hold the script back, choose the file, then let the script start (as a slow network would).
    page.route("**/static/js/uploads.js*", lambda route: route.abort())
    page.goto(f"{live_server.url}/assets/requests/{asset_request.id}")
    page.get_by_label("Choose files", exact=True).set_input_files(str(logo))
    page.unroute("**/static/js/uploads.js*")
    page.add_script_tag(url=f"{live_server.url}/static/js/uploads.js")
    expect(page.get_by_role("progressbar", name="early-logo.png")).to_have_attribute("value", "100")
    page.get_by_role("link", name="Show them on the page").click()
    expect(page.get_by_role("link", name="early-logo.png")).to_be_visible()
