"""Rapport: the client portal agencies and their clients trust."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error handlers, CLI."""
    from portal import cli, errors_web, security, templating
    from portal.config import load_config
    from portal.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    load_config(app, overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=templating.select_locale, timezone_selector=templating.select_timezone)
    bootstrap.init_app(app)
    limiter.init_app(app)

    security.init_app(app)
    templating.init_app(app)
    errors_web.init_app(app)

    from portal.account.views import bp as account_bp
    from portal.admin.views import bp as admin_bp
    from portal.auth.views import bp as auth_bp
    from portal.clients.views import bp as clients_bp
    from portal.home.views import bp as home_bp
    from portal.notify.views import bp as notify_bp
    from portal.projects.views import bp as projects_bp

    for blueprint in (auth_bp, home_bp, account_bp, clients_bp, projects_bp, admin_bp, notify_bp):
        app.register_blueprint(blueprint)
    from portal.assets.views import bp as assets_bp

    app.register_blueprint(assets_bp)
    from portal.goals.views import bp as goals_bp

    app.register_blueprint(goals_bp)

    from portal.expectations.views import bp as expectations_bp
    from portal.updates.views import bp as updates_bp

    app.register_blueprint(updates_bp)
    app.register_blueprint(expectations_bp)
    from portal.deliverables.views import bp as deliverables_bp

    app.register_blueprint(deliverables_bp)

    from portal.updates.weekly import load_providers

    load_providers()  # every feature's facts for the weekly update and note, in web, scheduler and CLI alike
    cli.init_app(app)
    return app
