"""A refused one-button action (deactivate, publish, retry…) answers with its page, the reason and a 4xx; nothing changes."""

from __future__ import annotations

from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail, Update, UpdateKind, UpdateStatus
from portal.timeutil import utcnow


def test_an_admin_cannot_deactivate_their_own_account(web, world):
    """The account page comes back with the reason and a 422; the admin stays active and logged in."""
    web.login(world.admin)
    response = web.post(f"/admin/users/{world.admin.id}/deactivate")
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.refresh(world.admin)
    assert world.admin.active
    assert web.get("/").status_code == 200


def test_publishing_an_update_twice_says_it_is_already_published(web, world):
    """A second click on Publish (another tab, a double click) answers 409 on the update's page; nothing is sent twice."""
    update = Update(project=world.project, author=world.manager, kind=UpdateKind.MANUAL, status=UpdateStatus.PUBLISHED,
                    title="Sprint 3", body="Checkout is live.", published_at=utcnow())
    db.session.add(update)
    db.session.commit()
    emails_before = db.session.query(OutboxEmail).count()
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/updates/{update.id}/publish")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This update is already published." in page and "Sprint 3" in page
    assert db.session.query(OutboxEmail).count() == emails_before


def test_retrying_an_email_that_is_not_dead_changes_nothing(web, world):
    """Only a dead email goes back in the queue; a sent one answers 409 on its own page and stays sent."""
    email = OutboxEmail(idempotency_key="test:sent", user_id=world.own_client.id, to_address=world.own_client.email, to_name="Ayşe",
                        subject="Weekly update", text_body="Hello", html_body="<p>Hello</p>", language="en", kind="weekly_update",
                        status=EmailStatus.SENT, next_attempt_at=utcnow(), sent_at=utcnow())
    db.session.add(email)
    db.session.commit()
    web.login(world.admin)
    response = web.post(f"/admin/emails/{email.id}/retry")
    assert response.status_code == 409
    assert "Weekly update" in response.get_data(as_text=True)
    db.session.refresh(email)
    assert email.status is EmailStatus.SENT
