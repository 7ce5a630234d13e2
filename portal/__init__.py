"""Rapport: the client portal agencies and their clients trust."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from portal import (
    account,
    admin,
    api,
    assets,
    auth,
    calendar,
    clients,
    deliverables,
    expectations,
    goals,
    home,
    incidents,
    notify,
    pins,
    projects,
    promises,
    updates,
    webhooks,
)

ROOT = Path(__file__).resolve().parent.parent

# Every feature package, each wiring itself in its ``init_app(app)``: its blueprint, the blocks
# it adds to shared pages, its weekly facts and the home items it contributes. Adding a
# feature means adding it here (README, "Adding a feature").
FEATURES = (
    auth, account, home, clients, projects, goals, deliverables, incidents, pins, assets, updates, expectations, promises,
    notify, admin, calendar, api, webhooks,
)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, features, error handlers, CLI."""
    from portal import cli, errors_web, ids, once, security, templating
    from portal.config import load_config
    from portal.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    load_config(app, overrides)
    ids.init_app(app)  # before any route: every <int:…> is range-checked
    once.init_app(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=templating.select_locale, timezone_selector=templating.select_timezone)
    babel.domain_instance = templating.RequestDomain(domain=app.config.get("BABEL_DOMAIN", "messages"))
    bootstrap.init_app(app)
    limiter.init_app(app)

    security.init_app(app)
    templating.init_app(app)
    errors_web.init_app(app)
    for feature in FEATURES:
        feature.init_app(app)
    cli.init_app(app)
    return app
