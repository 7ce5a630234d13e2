"""Screenshots of the main pages from the demo, to look at the interface as people see it.

Seeds the demo agency into a scratch SQLite database (migrated as ``make run`` does),
serves it on a free local port, and with Playwright in Chromium takes a full-page
screenshot of each main page for an agency admin, an account manager and a client
approver, in English and in Turkish, on a desktop (1280 px) and a phone (375 px) window:

    test-results/screens/<language>-<role>-<page>-<desktop|phone>.png

and prints each page's height in CSS pixels (also written to ``heights.tsv`` beside them),
so a change of layout can be compared page by page. ``make screens`` runs it.

    .venv/bin/python scripts/screens.py                 # everything
    .venv/bin/python scripts/screens.py --only overview # the pages whose name contains the word
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "test-results" / "screens"
VIEWPORTS: dict[str, ViewportSize] = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass(frozen=True)
class Shot:
    """One page to photograph: its name and its path on the demo."""

    name: str
    path: str


def chromium() -> str | None:
    """Return the machine's Chromium (PORTAL_CHROMIUM, else the PATH), or None for Playwright's own."""
    if os.environ.get("PORTAL_CHROMIUM"):
        return os.environ["PORTAL_CHROMIUM"]
    return next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)


def prepare(workdir: Path):
    """Create, migrate and seed the scratch demo; return the app."""
    os.environ.setdefault("PORTAL_ENV", "development")
    from flask_migrate import upgrade

    from portal import create_app
    from portal.seed import seed_demo

    app = create_app(
        {
            "ENV": "development",
            "SECRET_KEY": "screens",
            "DATABASE_URL": f"sqlite:///{workdir / 'screens.db'}",
            "UPLOAD_DIR": str(workdir / "uploads"),
            "MAIL_DIR": str(workdir / "mail"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo()
    return app


def people_and_pages(app) -> list[tuple[str, str, list[Shot]]]:
    """Return (role label, email, pages) for an admin, a manager and a client approver of the demo."""
    from flask import url_for
    from sqlalchemy import select

    from portal.access import visible_projects
    from portal.extensions import db
    from portal.models import AssetRequest, Deliverable, Project, ProjectMember, Role, User

    chosen: list[tuple[str, str, list[Shot]]] = []
    with app.test_request_context("/"):
        admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
        manager = db.session.scalar(select(User).where(User.role == Role.MANAGER).order_by(User.id))
        approver = db.session.scalar(
            select(User).join(ProjectMember, ProjectMember.user_id == User.id).where(ProjectMember.is_approver.is_(True)).order_by(User.id)
        )
        for label, user in (("admin", admin), ("manager", manager), ("client", approver)):
            if user is None:
                continue
            project = db.session.scalars(visible_projects(user).order_by(Project.id)).first()
            shots = [Shot("home", url_for("home.index"))]
            if project is not None:
                shots.append(Shot("overview", url_for("projects.show", project_id=project.id)))
                shots.append(Shot("updates", url_for("updates.index", project_id=project.id)))
                deliverable = db.session.scalar(select(Deliverable).where(Deliverable.project_id == project.id).order_by(Deliverable.id))
                if deliverable is not None:
                    shots.append(Shot("review", url_for("deliverables.show", deliverable_id=deliverable.id)))
                request = db.session.scalar(select(AssetRequest).where(AssetRequest.project_id == project.id).order_by(AssetRequest.id))
                if request is not None:
                    shots.append(Shot("upload", url_for("assets.show_request", request_id=request.id)))
                if user.is_staff:
                    shots.append(Shot("weekly-preview", url_for("updates.weekly_preview", project_id=project.id)))
                    shots.append(Shot("update-form", url_for("updates.create", project_id=project.id)))
            chosen.append((label, user.email, shots))
    return chosen


def set_language(app, email: str, language: str) -> None:
    """Give the demo person ``language`` (the pages follow the user's setting)."""
    from sqlalchemy import update

    from portal.extensions import db
    from portal.models import User

    with app.app_context():
        db.session.execute(update(User).where(User.email == email).values(language=language))
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="only the pages whose name contains this")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from portal.seed import DEMO_PASSWORD

    workdir = Path(tempfile.mkdtemp(prefix="rapport-screens-"))
    try:
        app = prepare(workdir)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = base
        threading.Thread(target=server.serve_forever, daemon=True).start()
        OUT.mkdir(parents=True, exist_ok=True)
        rows: list[tuple[str, int]] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(headless=True, args=CHROMIUM_ARGS, executable_path=chromium())
            for role, email, shots in people_and_pages(app):
                for language in ("en", "tr"):
                    set_language(app, email, language)
                    for viewport_name, viewport in VIEWPORTS.items():
                        context = browser.new_context(viewport=viewport, timezone_id="Europe/Istanbul")
                        page = context.new_page()
                        page.goto(f"{base}/login")
                        page.locator("input[name=email]").fill(email)
                        page.locator("input[name=password]").fill(DEMO_PASSWORD)
                        page.locator("input[name=password]").press("Enter")
                        page.wait_for_load_state()
                        for shot in shots:
                            if args.only and args.only not in shot.name:
                                continue
                            page.goto(f"{base}{shot.path}")
                            name = f"{language}-{role}-{shot.name}-{viewport_name}"
                            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                            rows.append((name, int(page.evaluate("document.documentElement.scrollHeight"))))
                        context.close()
            browser.close()
        server.shutdown()
        lines = [f"{name}\t{height}" for name, height in rows]
        (OUT / "heights.tsv").write_text("page\theight_px\n" + "\n".join(lines) + "\n")
        width = max(len(name) for name, _ in rows) if rows else 10
        for name, height in rows:
            print(f"{name:<{width}}  {height:>6} px")
        print(f"\n{len(rows)} screenshots in {OUT.relative_to(ROOT)}/")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
