"""Answering an update from its email: three links per client, no login, GET changes nothing, the token rules (issue 13, part 1)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.errors import DomainError
from portal.extensions import db
from portal.models import AckChoice, ActivityEvent, OutboxEmail, ProjectMember, Role, Update, UpdateAcknowledgement, UpdateKind, UpdateStatus
from portal.models.updates import UpdateAnswerLink
from portal.timeutil import utcnow
from portal.updates import answers, service
from portal.updates.dispatch import dispatch_weekly
from tests.fixtures.outbox import emails, outbox_size

CONCERN = "The launch date worries us: the campaign starts on 20 March."
LINK = re.compile(r"http://portal\.test/answer/([A-Za-z0-9_-]+)")


def answer_links(email: OutboxEmail) -> dict[str, str]:
    """Return the email's answer links by answer (accurate, not accurate, concern: the order they are listed in), as paths."""
    tokens = LINK.findall(email.text_body)
    assert len(tokens) == 3, email.text_body
    assert LINK.findall(email.html_body or "") == tokens  # the HTML part's buttons are the same links
    return {choice.value: f"/answer/{token}" for choice, token in zip(AckChoice, tokens, strict=True)}


def publish(world) -> Update:
    """Publish a manual update on the world's project, emailing its client members."""
    update = service.save_update(world.manager, world.project, {"title": "Sprint 3", "body": "Checkout is live on staging."}, publish=True)
    db.session.commit()
    return update


@pytest.fixture
def published(world):
    """A published update and the client's three links from its email."""
    update = publish(world)
    (email,) = emails("update", to=world.own_client.email)
    return update, answer_links(email)


def answer_of(update: Update, user) -> UpdateAcknowledgement | None:
    """Return the stored answer of ``user`` on ``update``."""
    db.session.expire_all()
    return db.session.scalar(
        select(UpdateAcknowledgement).where(UpdateAcknowledgement.update_id == update.id, UpdateAcknowledgement.user_id == user.id)
    )


def state() -> tuple[int, int, int]:
    """Return what an answer would change: answers, activity events, emails."""
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(UpdateAcknowledgement)) or 0
    return count, db.session.scalar(select(func.count()).select_from(ActivityEvent)) or 0, outbox_size()


# --- The emails carry the links --------------------------------------------------------------


def test_a_published_update_emails_each_client_three_links_of_their_own(web, world, make_user):
    """Two client members each get three distinct links; each opens the page of its own answer."""
    colleague = make_user(Role.CLIENT, world.own_org, name="Deniz Colleague", email="deniz@example.com")
    db.session.add(ProjectMember(project=world.project, user=colleague))
    db.session.commit()
    publish(world)
    ayse = answer_links(emails("update", to=world.own_client.email)[0])
    deniz = answer_links(emails("update", to=colleague.email)[0])
    assert len(set(ayse.values()) | set(deniz.values())) == 6
    assert "Is this update accurate?" in web.text(ayse["accurate"])
    assert "What is not accurate?" in web.text(ayse["not_accurate"])
    page = web.text(deniz["concern"])
    assert "What concerns you?" in page and "You answer as Deniz Colleague." in page


def test_only_the_secrets_hash_is_stored(world, published):
    """The links' secrets are kept as SHA-256 only, one row per answer, expiring 14 days after the email."""
    update, links = published
    rows = db.session.scalars(select(UpdateAnswerLink).where(UpdateAnswerLink.user_id == world.own_client.id)).all()
    assert {row.choice for row in rows} == set(AckChoice)
    stored = {row.token_hash for row in rows}
    for path in links.values():
        secret = path.rsplit("/", 1)[1]
        assert len(secret) >= 22  # at least 128 bits, URL-safe base64
        assert hashlib.sha256(secret.encode()).hexdigest() in stored and secret not in stored
    assert all(timedelta(days=13, hours=23) < row.expires_at - utcnow() <= timedelta(days=14) for row in rows)
    assert all(row.update_id == update.id for row in rows)


def test_the_weekly_email_carries_three_links_to_clients_and_none_to_the_managers_copy(web, world):
    """The weekly update's email to a client has the three answers; the account manager's copy has none."""
    report = dispatch_weekly(utcnow(), project_id=world.project.id, force=True)
    assert report.sent == 1
    weekly = db.session.scalar(select(Update).where(Update.kind == UpdateKind.WEEKLY))
    links = answer_links(emails("weekly", to=world.own_client.email)[0])
    (copy,) = emails("weekly", to=world.manager.email)
    assert "/answer/" not in copy.text_body and "/answer/" not in (copy.html_body or "")
    assert "Weekly update, week of" in web.text(links["concern"])
    assert db.session.scalar(select(func.count()).select_from(UpdateAnswerLink).where(UpdateAnswerLink.update_id == weekly.id)) == 3


# --- Opening a link changes nothing; the button answers -------------------------------------------


def test_opening_any_link_changes_nothing(web, published):
    """A mail scanner that follows every link (GET, twice) records no answer, no event and no email."""
    _update, links = published
    before = state()
    for path in [*links.values(), *links.values()]:
        response = web.get(path)
        assert response.status_code == 200
        assert 'method="post"' in response.get_data(as_text=True)
    assert state() == before


def test_accurate_is_recorded_with_one_button_and_no_login(web, world, published):
    """Without a session, the "accurate" page's button records the answer (with a score) and thanks the client."""
    update, links = published
    response = web.post(links["accurate"], {"score": "5"})
    assert response.status_code == 302
    ack = answer_of(update, world.own_client)
    assert ack is not None and ack.choice is AckChoice.ACCURATE and ack.score == 5 and ack.comment == ""
    page = web.text(response.headers["Location"])
    assert "Thank you: you marked this update as accurate." in page
    assert f'href="/projects/{world.project.id}/updates/{update.id}"' in page
    assert emails("update_ack") == []  # "accurate" does not need the manager


def test_a_concern_needs_a_sentence_and_tells_the_manager(web, world, published):
    """Sending a concern without a sentence is refused and changes nothing; with one, it is stored and the manager is emailed."""
    update, links = published
    before = state()
    response = web.post(links["concern"], {"comment": "  ", "score": "2"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Tell us in a sentence what is wrong, so we can act on it." in page
    assert re.search(r'<input checked[^>]*value="2"', page)  # the score chosen is kept
    assert state() == before
    response = web.post(links["concern"], {"comment": CONCERN, "score": "2"})
    assert response.status_code == 302
    ack = answer_of(update, world.own_client)
    assert ack is not None and (ack.choice, ack.comment, ack.score) == (AckChoice.CONCERN, CONCERN, 2)
    (told,) = emails("update_ack")
    assert told.to_address == world.manager.email and CONCERN in told.text_body
    assert "your account manager is told" in web.text(response.headers["Location"])


def test_not_accurate_without_a_score_is_fine(web, world, published):
    """The score is optional."""
    update, links = published
    assert web.post(links["not_accurate"], {"comment": "The staging link is down."}).status_code == 302
    ack = answer_of(update, world.own_client)
    assert ack is not None and ack.choice is AckChoice.NOT_ACCURATE and ack.score is None


def test_a_score_out_of_range_is_refused(web, world, published):
    """A score other than 1–5 is refused with a message; nothing is recorded."""
    update, links = published
    response = web.post(links["accurate"], {"score": "9"})
    assert response.status_code == 422
    assert "Choose a score from 1 to 5, or none." in response.get_data(as_text=True)
    assert answer_of(update, world.own_client) is None
    with pytest.raises(DomainError):
        service.acknowledge(world.own_client, update, AckChoice.ACCURATE, score=0)
    db.session.rollback()


def test_links_can_be_used_again_only_to_change_ones_own_answer(web, make_web, world, published):
    """Each link changes the same answer, which is also the one given in the portal (and the portal keeps the score)."""
    update, links = published
    web.post(links["accurate"], {"score": "4"})
    first = answer_of(update, world.own_client)
    web.post(links["concern"], {"comment": CONCERN, "score": "2"})
    web.post(links["accurate"], {"score": "3"})  # the same link again
    ack = answer_of(update, world.own_client)
    assert ack is not None and ack.id == first.id
    assert (ack.choice, ack.comment, ack.score, ack.revision) == (AckChoice.ACCURATE, "", 3, 3)
    portal = make_web()
    portal.login(world.own_client)
    portal.post(f"/projects/{world.project.id}/updates/{update.id}/acknowledge", {"choice": "not_accurate", "comment": "Wrong date."})
    ack = answer_of(update, world.own_client)
    assert (ack.id, ack.choice, ack.comment, ack.score) == (first.id, AckChoice.NOT_ACCURATE, "Wrong date.", 3)
    assert "Not accurate" in web.text(links["concern"])  # the link's page shows the answer it would change
    assert db.session.scalar(select(func.count()).select_from(UpdateAcknowledgement)) == 1


def test_the_person_logged_in_may_use_their_own_links(web, world, published):
    """Logged in as the link's person, the page works the same."""
    update, links = published
    web.login(world.own_client)
    assert web.get(links["concern"]).status_code == 200
    assert web.post(links["concern"], {"comment": CONCERN}).status_code == 302
    assert answer_of(update, world.own_client).choice is AckChoice.CONCERN


# --- Links that do not work -----------------------------------------------------------------------


def test_a_forged_link_gets_a_clear_page_and_changes_nothing(web, published):
    """An unknown secret, or a real one with a character changed, is a 404 with a plain explanation, for GET and POST."""
    _update, links = published
    real = links["accurate"]
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    before = state()
    for path in ("/answer/not-a-real-link", tampered, "/answer/" + "x" * 400):
        for response in (web.get(path), web.post(path, {"score": "5"})):
            assert response.status_code == 404, path
            assert "This link does not work" in response.get_data(as_text=True)
    assert state() == before


def test_a_link_expires_after_14_days(web, world, published):
    """Until 14 days after the email the link works; then it is refused with a clear page and changes nothing."""
    update, links = published
    sent = utcnow()
    with time_machine.travel(sent + timedelta(days=13, hours=23), tick=False):
        assert web.get(links["concern"]).status_code == 200
    with time_machine.travel(sent + timedelta(days=14, minutes=1), tick=False):
        before = state()
        for response in (web.get(links["accurate"]), web.post(links["accurate"], {"score": "5"})):
            assert response.status_code == 410
            assert "This link has expired" in response.get_data(as_text=True)
        assert state() == before
    assert answer_of(update, world.own_client) is None


def test_another_persons_link_is_refused_while_logged_in(web, world, published, make_user):
    """Logged in as someone else (a colleague, staff), the link refuses to answer in its person's name."""
    update, links = published
    colleague = make_user(Role.CLIENT, world.own_org, name="Deniz Colleague", email="deniz@example.com")
    db.session.add(ProjectMember(project=world.project, user=colleague))
    db.session.commit()
    for person in (colleague, world.manager):
        web.login(person)
        before = state()
        for response in (web.get(links["concern"]), web.post(links["concern"], {"comment": CONCERN})):
            assert response.status_code == 403
            assert "This link was sent to someone else" in response.get_data(as_text=True)
        assert state() == before
        web.logout()
    assert answer_of(update, world.own_client) is None
    with pytest.raises(answers.LinkRefused) as refused:
        answers.open_link(links["concern"].rsplit("/", 1)[1], colleague)
    assert refused.value.reason is answers.Refusal.SOMEONE_ELSE


@pytest.mark.parametrize("change", ["removed_from_project", "deactivated", "organisation_archived", "update_unpublished"])
def test_a_link_to_an_update_the_person_can_no_longer_see_changes_nothing(web, world, published, change):
    """Removed from the project, deactivated, organisation archived or update withdrawn: a clear page, and nothing changes."""
    update, links = published
    if change == "removed_from_project":
        db.session.execute(ProjectMember.__table__.delete().where(ProjectMember.user_id == world.own_client.id))
    elif change == "deactivated":
        world.own_client.active = False
    elif change == "organisation_archived":
        world.own_org.archived_at = utcnow()
    else:
        db.session.execute(Update.__table__.update().where(Update.id == update.id).values(status=UpdateStatus.DRAFT))
    db.session.commit()
    before = state()
    for response in (web.get(links["accurate"]), web.post(links["accurate"], {"score": "5"})):
        assert response.status_code == 404
        assert "This update is no longer open to you" in response.get_data(as_text=True)
    assert state() == before


def test_a_deleted_update_leaves_no_working_link(web, world):
    """A link whose update was deleted is simply unknown."""
    update = publish(world)
    links = answer_links(emails("update", to=world.own_client.email)[0])
    db.session.execute(Update.__table__.delete().where(Update.id == update.id))
    db.session.commit()
    assert web.get(links["accurate"]).status_code == 404


# --- Language, CSRF and rate limits -----------------------------------------------------------


def test_the_page_speaks_the_persons_language_whatever_the_browser(web, world, published):
    """The link's person reads Turkish: the page is in Turkish even for an English browser, and after answering too."""
    _update, links = published
    world.own_client.language = "tr"
    db.session.commit()
    response = web.get(links["concern"], headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert '<html lang="tr">' in page and "Bir endişem var" in page
    response = web.post(links["concern"], {"comment": CONCERN}, headers={"Accept-Language": "en"})
    assert '<html lang="tr">' in web.text(response.headers["Location"])


def test_the_form_needs_its_csrf_token(web, world, published):
    """A POST without the form's token is refused with 400 and records nothing."""
    update, links = published
    assert web.post(links["accurate"], {"score": "5"}, csrf=False).status_code == 400
    assert answer_of(update, world.own_client) is None


def test_the_answer_pages_are_rate_limited(app, web, world, published):
    """Past the configured rate (guessing secrets, say), one address gets 429 and even a real link records nothing."""
    update, links = published
    app.config["RATELIMIT_ANSWER"] = "3 per minute"
    statuses = [web.get(f"/answer/guess-{n}").status_code for n in range(3)]
    assert statuses == [404, 404, 404]
    assert web.post(links["accurate"], {"score": "5"}).status_code == 429
    assert answer_of(update, world.own_client) is None
