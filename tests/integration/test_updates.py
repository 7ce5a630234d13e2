"""Progress updates: staff write and publish, clients read, comment and answer; staff see the answers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AckChoice,
    Role,
    Update,
    UpdateAcknowledgement,
    UpdateComment,
    UpdateStatus,
)
from portal.updates import service
from tests.fixtures.outbox import emails


def post_update(world, *, publish: bool = True, **values):
    """Have the manager write an update through the service, and commit."""
    values.setdefault("title", "Sprint 3 finished")
    values.setdefault("body", "Checkout is **live** on staging.")
    update = service.save_update(world.manager, world.project, values, publish=publish)
    db.session.commit()
    return update


# --- Writing and publishing ---------------------------------------------------------------


def test_manager_publishes_an_update_with_sections_and_the_client_reads_it(web, make_web, world):
    """A published update shows its Markdown and sections on the project page, and the client is emailed."""
    web.login(world.manager)
    response = web.post(
        f"/projects/{world.project.id}/updates/new",
        {
            "title": "Sprint 3 finished",
            "body": "Checkout is **live** on staging.",
            "done": "- Payment form\n- Order emails",
            "next_steps": "Load testing",
            "blockers": "The payment provider has not approved our account.",
            "needs": "Your logo as SVG",
            "action": "publish",
        },
    )
    assert response.status_code == 302
    update = db.session.scalar(select(Update))
    assert update.status is UpdateStatus.PUBLISHED and update.published_at is not None

    client = make_web()
    client.login(world.own_client)
    page = client.text(f"/projects/{world.project.id}")
    assert "Sprint 3 finished" in page
    assert "<strong>live</strong>" in page
    for text in ("Payment form", "Load testing", "has not approved our account", "Your logo as SVG"):
        assert text in page
    [email] = emails("update")
    assert email.to_address == world.own_client.email
    assert f"http://portal.test/projects/{world.project.id}/updates/{update.id}" in email.text_body


def test_a_draft_is_for_staff_only_until_published(web, make_web, world):
    """Clients neither see a draft in the feed nor open it; publishing it shows it to them."""
    update = post_update(world, publish=False, title="Half-written thoughts")
    client = make_web()
    client.login(world.own_client)
    assert "Half-written thoughts" not in client.text(f"/projects/{world.project.id}")
    assert client.get(f"/projects/{world.project.id}/updates/{update.id}").status_code == 404
    assert emails("update") == []

    web.login(world.manager)
    assert "Draft: staff only" in web.text(f"/projects/{world.project.id}")
    assert web.post(f"/projects/{world.project.id}/updates/{update.id}/publish").status_code == 302
    assert "Half-written thoughts" in client.text(f"/projects/{world.project.id}")
    assert len(emails("update")) == 1


def test_publishing_without_text_is_refused_and_keeps_the_title(web, world):
    """An update with a title but nothing else cannot be published; the form keeps what was typed."""
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/updates/new", {"title": "Only a title", "action": "publish"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Write what happened before publishing" in page
    assert 'value="Only a title"' in page
    assert db.session.scalar(select(func.count()).select_from(Update)) == 0


def test_a_draft_can_be_saved_edited_and_deleted(web, world):
    """Staff save a draft, change it, and delete it after confirming."""
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/updates/new", {"title": "Draft one", "action": "draft"})
    update = db.session.scalar(select(Update))
    update_id = update.id
    assert response.headers["Location"].endswith(f"/updates/{update_id}/edit")
    assert update.status is UpdateStatus.DRAFT
    web.post(f"/projects/{world.project.id}/updates/{update_id}/edit", {"title": "Draft two", "body": "More", "action": "draft"})
    assert db.session.get(Update, update_id).title == "Draft two"
    page = web.text(f"/projects/{world.project.id}")
    assert 'data-confirm="Delete the draft' in page
    web.post(f"/projects/{world.project.id}/updates/{update_id}/delete")
    db.session.expunge_all()
    assert db.session.get(Update, update_id) is None


def test_a_published_update_is_a_record(web, world):
    """A published update cannot be edited or deleted; staff are told to post a new one."""
    update = post_update(world)
    web.login(world.manager)
    response = web.get(f"/projects/{world.project.id}/updates/{update.id}/edit")
    assert response.status_code == 302
    web.post(f"/projects/{world.project.id}/updates/{update.id}/edit", {"title": "Rewritten", "body": "x", "action": "publish"})
    web.post(f"/projects/{world.project.id}/updates/{update.id}/delete")
    db.session.expire_all()
    assert db.session.get(Update, update.id).title == "Sprint 3 finished"


def test_markdown_cannot_inject_script_or_links(web, make_web, world):
    """Script and javascript: links typed into an update are shown as text or dropped."""
    post_update(world, body="<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>")
    client = make_web()
    client.login(world.own_client)
    page = client.text(f"/projects/{world.project.id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert 'href="javascript:' not in page
    assert "<img src=x" not in page


# --- Comments ---------------------------------------------------------------------------


def test_client_comments_and_the_manager_is_told(web, make_web, world):
    """A client's comment appears under the update and the account manager gets an email."""
    update = post_update(world)
    web.login(world.own_client)
    response = web.post(f"/projects/{world.project.id}/updates/{update.id}/comments", {"body": "Great news! <b>thanks</b>"})
    assert response.status_code == 302
    page = web.text(f"/projects/{world.project.id}/updates/{update.id}")
    assert "Great news! &lt;b&gt;thanks&lt;/b&gt;" in page
    [email] = emails("update_comment")
    assert email.to_address == world.manager.email and "Great news!" in email.text_body


def test_an_empty_comment_is_refused_with_a_message(web, world):
    """An empty comment answers 422 with a message and stores nothing."""
    update = post_update(world)
    web.login(world.own_client)
    response = web.post(f"/projects/{world.project.id}/updates/{update.id}/comments", {"body": "   "})
    assert response.status_code == 422
    assert "Write your comment first." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(UpdateComment)) == 0


def test_a_draft_cannot_be_commented(web, world):
    """Comments open once the update is published."""
    update = post_update(world, publish=False)
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/updates/{update.id}/comments", {"body": "Note to self"})
    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(UpdateComment)) == 0


# --- Acknowledgements ---------------------------------------------------------------------


def test_accurate_is_one_click(web, world):
    """Clicking "Accurate" records the answer, with no sentence needed, and emails nobody."""
    update = post_update(world)
    web.login(world.own_client)
    response = web.post(f"/projects/{world.project.id}/updates/{update.id}/acknowledge", {"choice": "accurate"})
    assert response.status_code == 302
    ack = db.session.scalar(select(UpdateAcknowledgement))
    assert ack.choice is AckChoice.ACCURATE and ack.user_id == world.own_client.id
    assert "Your answer:" in web.text(f"/projects/{world.project.id}/updates/{update.id}")
    assert emails("update_ack") == []


@pytest.mark.parametrize(("choice", "question"), [("not_accurate", "What is not accurate?"), ("concern", "What concerns you?")])
def test_a_concern_needs_a_sentence(web, world, choice, question):
    """"Not accurate" and "I have a concern" without a sentence are refused, and the question stays open."""
    update = post_update(world)
    web.login(world.own_client)
    response = web.post(f"/projects/{world.project.id}/updates/{update.id}/acknowledge", {"choice": choice, "comment": " "})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Tell us in a sentence what is wrong" in page
    assert re.search(rf'<details class="ack-details" open>\s*<summary[^>]*>[^<]*</summary>\s*<form[^>]*>[\s\S]*?{re.escape(question)}', page)
    assert db.session.scalar(select(func.count()).select_from(UpdateAcknowledgement)) == 0


def test_a_concern_reaches_the_manager_who_sees_it_on_the_update(web, make_web, world):
    """A concern with a sentence is stored, emailed to the manager, and shown to staff with the client's name."""
    update = post_update(world)
    web.login(world.own_client)
    web.post(
        f"/projects/{world.project.id}/updates/{update.id}/acknowledge",
        {"choice": "concern", "comment": "Launch date worries our board."},
    )
    [email] = emails("update_ack")
    assert email.to_address == world.manager.email
    assert "Launch date worries our board." in email.text_body

    manager = make_web()
    manager.login(world.manager)
    page = manager.text(f"/projects/{world.project.id}")
    assert "Client answers" in page
    assert "Ayşe Client" in page and "I have a concern" in page and "Launch date worries our board." in page


def test_answering_again_replaces_the_answer(web, world):
    """A client who changes their mind has one answer, the latest, and the manager hears of the new concern."""
    update = post_update(world)
    web.login(world.own_client)
    url = f"/projects/{world.project.id}/updates/{update.id}/acknowledge"
    web.post(url, {"choice": "accurate"})
    web.post(url, {"choice": "not_accurate", "comment": "The date is wrong."})
    acks = db.session.scalars(select(UpdateAcknowledgement)).all()
    assert len(acks) == 1 and acks[0].choice is AckChoice.NOT_ACCURATE and acks[0].revision == 2
    assert len(emails("update_ack")) == 1


def test_staff_cannot_answer_for_the_client(web, world):
    """Acknowledging is the client's: staff get 403 and nothing is stored."""
    update = post_update(world)
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/updates/{update.id}/acknowledge", {"choice": "accurate"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(UpdateAcknowledgement)) == 0


def test_staff_see_who_has_not_answered(web, make_user, world):
    """Staff see, per update, which client members have not answered yet."""
    colleague = make_user(Role.CLIENT, world.own_org, name="Mert Colleague")
    from portal.models import ProjectMember

    db.session.add(ProjectMember(project=world.project, user=colleague))
    db.session.commit()
    update = post_update(world)
    service.acknowledge(world.own_client, update, AckChoice.ACCURATE)
    db.session.commit()
    web.login(world.manager)
    page = web.text(f"/projects/{world.project.id}/updates/{update.id}")
    assert "Not answered yet: Mert Colleague" in page


# --- Query counts ------------------------------------------------------------------------


def readers(world, make_user) -> list:
    """Add two client members to the project and return every client member."""
    from portal.models import ProjectMember

    people = [world.own_client]
    for n in range(2):
        person = make_user(Role.CLIENT, world.own_org, name=f"Reader {n}")
        db.session.add(ProjectMember(project=world.project, user=person))
        people.append(person)
    db.session.commit()
    return people


def fill_feed(world, people: list, count: int, start: int = 0) -> None:
    """Publish ``count`` updates, each with a comment and an answer from every person."""
    for i in range(start, start + count):
        update = service.save_update(world.manager, world.project, {"title": f"Update {i}", "body": "Text", "blockers": "x"}, publish=True)
        db.session.flush()
        for person in people:
            db.session.add(UpdateComment(update_id=update.id, author=person, body=f"Comment by {person.name}"))
            db.session.add(UpdateAcknowledgement(update_id=update.id, user_id=person.id, choice=AckChoice.CONCERN, comment="Hm"))
    db.session.commit()


@pytest.mark.parametrize("who", ["manager", "own_client"])
@pytest.mark.parametrize("url", ["/projects/{id}", "/projects/{id}/updates"])
def test_feed_queries_do_not_grow_with_updates(make_web, make_user, world, count_queries, who, url):
    """The project page and the updates list run as many queries with 50 updates as with 5."""
    browser = make_web()
    browser.login(getattr(world, who))
    path = url.format(id=world.project.id)

    people = readers(world, make_user)
    fill_feed(world, people, 5)
    with count_queries() as few:
        browser.text(path)
    fill_feed(world, people, 45, start=5)
    with count_queries() as many:
        page = browser.text(path)
    assert "Update 49" in page
    assert many.count == few.count, many.statements[few.count :]


def test_clients_see_no_staff_actions(make_web, world):
    """A client's pages offer no way to write updates, preview the weekly update or write notes."""
    post_update(world)
    post_update(world, publish=False, title="Staff draft")
    client = make_web()
    client.login(world.own_client)
    for url in (f"/projects/{world.project.id}", f"/projects/{world.project.id}/updates", f"/projects/{world.project.id}/expectations/"):
        page = client.text(url)
        for text in ("Post an update", "Preview the weekly update", "Write a note", "Edit draft", "Staff draft", "Client answers"):
            assert text not in page, (url, text)
        for path in ("/updates/new", "/weekly", "/expectations/new", "/edit"):
            assert f'href="/projects/{world.project.id}{path}' not in page, (url, path)
