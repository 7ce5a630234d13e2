"""Deliverable review from first version to approval: every transition under both approval rules, races included."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.deliverables import queries, review, service
from portal.deliverables.weekly import deliverable_facts
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.models import ApprovalRule, ProjectMember, Role, User
from portal.models.activity import AppendOnlyError
from portal.models.deliverables import (
    Decision,
    DecisionOutcome,
    Deliverable,
    DeliverableReopening,
    DeliverableStatus,
    DeliverableVersion,
    ReasonCategory,
    VersionStatus,
)
from portal.timeutil import project_today, utcnow
from tests.fixtures.activity import events
from tests.fixtures.outbox import emails
from tests.fixtures.race import race
from tests.integration.deliverables_support import add_file, decisions, make_deliverable, png_bytes, submit

APPROVE = DecisionOutcome.APPROVE
CHANGES = DecisionOutcome.CHANGES_REQUESTED


@pytest.fixture(autouse=True)
def request_context(app):
    """Run the services inside a request, as views do (their messages are translated lazily for the reader)."""
    with app.test_request_context():
        yield


@pytest.fixture
def priya(world, make_user) -> User:
    """A second approver of the world's project."""
    person = make_user(Role.CLIENT, world.own_org, name="Priya Second", email="priya@example.com")
    db.session.add(ProjectMember(project=world.project, user=person, is_approver=True))
    db.session.commit()
    return person


@pytest.fixture
def reader(world, make_user) -> User:
    """A client member of the project who is not an approver."""
    person = make_user(Role.CLIENT, world.own_org, name="Mert Reader", email="mert@example.com")
    db.session.add(ProjectMember(project=world.project, user=person, is_approver=False))
    db.session.commit()
    return person


def use_rule(world, rule: ApprovalRule) -> None:
    """Set the project's approval rule."""
    world.project.approval_rule = rule
    db.session.commit()


def request_changes(user: User, version: DeliverableVersion, text: str = "The logo is too small", category=ReasonCategory.QUALITY):
    """Request changes on ``version`` and commit."""
    decision = service.decide(user, version, outcome=CHANGES, reason_category=category, text=text)
    db.session.commit()
    return decision


def approve(user: User, version: DeliverableVersion, text: str = ""):
    """Approve ``version`` and commit."""
    decision = service.decide(user, version, outcome=APPROVE, text=text)
    db.session.commit()
    return decision


# --- Creating and submitting --------------------------------------------------------------


def test_a_deliverable_takes_the_projects_included_rounds_unless_told_otherwise(world):
    """Staff create deliverables; included rounds default from the project; the creation is in the activity log."""
    world.project.included_rounds = 3
    db.session.commit()
    first = make_deliverable(world.manager, world.project, due_date=project_today(world.project) + timedelta(days=10))
    second = make_deliverable(world.manager, world.project, title="Brand book", included_rounds=0)
    assert (first.included_rounds, second.included_rounds) == (3, 0)
    assert first.status is DeliverableStatus.PREPARING and first.current_number is None
    assert [e.object_id for e in events("deliverable.created")] == [first.id, second.id]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"due_date": timedelta(days=-1)}, "due_date"),  # from the project's today
        ({"included_rounds": -1}, "included_rounds"),
        ({"included_rounds": 51}, "included_rounds"),
    ],
)
def test_bad_details_are_refused_on_their_field(world, values, field):
    """A blank or long title, a past due date, an impossible number of rounds: refused, nothing saved."""
    if isinstance(values.get("due_date"), timedelta):
        values = {**values, "due_date": project_today(world.project) + values["due_date"]}
    with pytest.raises(DomainError) as refused:
        service.create_deliverable(world.manager, world.project, **{"title": "Homepage", **values})
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Deliverable)) == 0


@pytest.mark.parametrize("who", ["own_client", "other_manager", "other_client"])
def test_only_the_projects_staff_create_deliverables(world, who):
    """Clients and another manager cannot add deliverables to the project."""
    with pytest.raises(NotAllowed):
        service.create_deliverable(getattr(world, who), world.project, title="Homepage")


def test_submitting_the_first_version_asks_the_approvers(world, priya, reader, make_user):
    """Version 1 goes to review; every approver who wants email is asked; readers and the opted-out are not."""
    quiet = make_user(Role.CLIENT, world.own_org, name="Quiet Approver", email="quiet@example.com", notify_activity=False)
    db.session.add(ProjectMember(project=world.project, user=quiet, is_approver=True))
    db.session.commit()
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable, links="Staging site https://staging.example.com")

    assert (deliverable.status, deliverable.current_number) == (DeliverableStatus.IN_REVIEW, 1)
    assert (version.status, version.round, version.over_rounds) == (VersionStatus.IN_REVIEW, 0, False)
    assert version.submitted_by_id == world.manager.id and version.submitted_at is not None
    assert [(link.label, link.url) for link in version.links] == [("Staging site", "https://staging.example.com")]
    assert sorted(e.to_address for e in emails("deliverable_submitted")) == ["ayse@example.com", "priya@example.com"]
    assert "version 1 of “Homepage design” is ready for your review" in emails("deliverable_submitted")[0].subject
    (event,) = events("deliverable.version_submitted")
    assert event.data["version"] == 1 and event.data["files"] == ["design.pdf"]


def test_an_empty_version_is_refused_and_stays_a_draft(world):
    """Neither a file nor a link: the version cannot be submitted."""
    deliverable = make_deliverable(world.manager, world.project)
    version = service.start_version(world.manager, deliverable)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        service.submit_version(world.manager, version, change_notes="Here it is")
    assert refused.value.field == "links"
    db.session.rollback()
    assert version.status is VersionStatus.DRAFT and deliverable.current_number is None
    assert not emails("deliverable_submitted")


def test_a_version_of_links_only_is_fine(world):
    """A staging site alone is a version."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable, links="https://figma.com/file/abc", file=None)
    assert version.status is VersionStatus.IN_REVIEW and [link.label for link in version.links] == [""]


@pytest.mark.parametrize(
    "links",
    ["javascript:alert(1)", "Staging ftp://files.example.com", "https://user:secret@evil.example", "https://", "Two https://a.example https://b.example"],
)
def test_links_that_are_not_web_addresses_are_refused(world, links):
    """Only http(s) addresses without credentials, one per line."""
    deliverable = make_deliverable(world.manager, world.project)
    version = service.start_version(world.manager, deliverable)
    add_file(world.manager, version)
    with pytest.raises(DomainError) as refused:
        service.submit_version(world.manager, version, links=links)
    assert refused.value.field == "links" and "Line 1" in str(refused.value.message)


def test_a_project_without_approvers_cannot_receive_a_version(world):
    """Nobody could decide: submitting is refused with a clear message."""
    world.project.members[0].is_approver = False
    db.session.commit()
    deliverable = make_deliverable(world.manager, world.project)
    version = service.start_version(world.manager, deliverable)
    add_file(world.manager, version)
    with pytest.raises(DomainError, match="approver"):
        service.submit_version(world.manager, version)


def test_later_versions_must_say_what_changed(world):
    """Version 2 without change notes is refused on that field."""
    deliverable = make_deliverable(world.manager, world.project)
    v1 = submit(world.manager, deliverable)
    request_changes(world.own_client, v1)
    v2 = service.start_version(world.manager, deliverable)
    add_file(world.manager, v2)
    with pytest.raises(DomainError) as refused:
        service.submit_version(world.manager, v2, change_notes="   ")
    assert refused.value.field == "change_notes"


def test_drafts_belong_to_staff_and_only_one_at_a_time(world):
    """Starting twice returns the same draft; clients cannot prepare versions or upload."""
    deliverable = make_deliverable(world.manager, world.project)
    first = service.start_version(world.manager, deliverable)
    db.session.commit()
    assert service.start_version(world.admin, deliverable) == first
    with pytest.raises(NotAllowed):
        service.start_version(world.own_client, deliverable)
    with pytest.raises(NotAllowed):
        service.check_upload_allowed(world.own_client, deliverable)


def test_removing_and_discarding_return_the_stored_keys(world):
    """A draft's file comes out with its thumbnail key; discarding a draft returns every key; submitted files stay."""
    deliverable = make_deliverable(world.manager, world.project)
    draft = service.start_version(world.manager, deliverable)
    image = add_file(world.manager, draft, png_bytes(), "mock-up.png")
    add_file(world.manager, draft)
    db.session.commit()
    keys = service.remove_file(world.manager, image)
    db.session.commit()
    assert keys == [image.storage_key, image.thumbnail_key] and len(draft.files) == 1
    keys = service.discard_draft(world.manager, draft)
    db.session.commit()
    assert len(keys) == 1 and queries.draft_of(deliverable) is None

    version = submit(world.manager, deliverable)
    with pytest.raises(Conflict):
        service.remove_file(world.manager, version.files[0])


# --- The "any approver" rule --------------------------------------------------------------


def test_any_rule_the_first_approval_settles_and_locks(world, priya):
    """One approval approves the version and locks the deliverable; the manager hears at once."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    decision = approve(world.own_client, version, text="Lovely")

    assert (version.status, deliverable.status) == (VersionStatus.APPROVED, DeliverableStatus.APPROVED)
    assert deliverable.is_locked and deliverable.approved_at is not None
    assert (decision.outcome, decision.approver_id, decision.text) == (APPROVE, world.own_client.id, "Lovely")
    (email,) = emails("deliverable_decided")
    assert email.to_address == world.manager.email and "Ayşe Client approved “Homepage design” (version 1)" in email.subject
    assert "approved and now locked" in email.text_body
    assert events("deliverable.approved")[0].data["settled"] == "approved"

    with pytest.raises(Conflict, match="Ayşe Client already approved version 1"):
        service.decide(priya, version, outcome=CHANGES, reason_category="quality", text="Too late")
    db.session.rollback()
    with pytest.raises(Conflict, match="locked"):
        service.start_version(world.manager, deliverable)
    with pytest.raises(Conflict, match="locked"):
        service.update_deliverable(world.manager, deliverable, {"title": "New title"})


def test_any_rule_one_request_for_changes_sends_it_back(world, priya):
    """Changes requested with a reason: the version is settled, the agency owes version 2 in round 1."""
    deliverable = make_deliverable(world.manager, world.project)
    v1 = submit(world.manager, deliverable)
    decision = request_changes(priya, v1, "Use the new photos", ReasonCategory.NEW_REQUEST)

    assert (v1.status, deliverable.status) == (VersionStatus.CHANGES_REQUESTED, DeliverableStatus.CHANGES_REQUESTED)
    assert decision.reason_category is ReasonCategory.NEW_REQUEST
    (email,) = emails("deliverable_decided")
    assert "Priya Second requested changes" in email.subject and "Reason: New request" in email.text_body
    assert "Use the new photos" in email.text_body
    with pytest.raises(Conflict, match="Priya Second already requested changes"):
        service.decide(world.own_client, v1, outcome=APPROVE)
    db.session.rollback()

    v2 = submit(world.manager, deliverable, notes="New photos")
    assert (v2.number, v2.round, deliverable.status) == (2, 1, DeliverableStatus.IN_REVIEW)
    approve(world.own_client, v2)
    assert deliverable.status is DeliverableStatus.APPROVED and [v.status for v in deliverable.versions] == [
        VersionStatus.CHANGES_REQUESTED,
        VersionStatus.APPROVED,
    ]


@pytest.mark.parametrize(
    ("category", "text", "field"),
    [(None, "Smaller logo", "reason_category"), ("nonsense", "Smaller logo", "reason_category"), ("quality", "  ", "text")],
)
def test_requesting_changes_needs_a_category_and_a_text(world, category, text, field):
    """Without a reason category or a text, nothing is recorded."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    with pytest.raises(DomainError) as refused:
        service.decide(world.own_client, version, outcome=CHANGES, reason_category=category, text=text)
    assert refused.value.field == field
    db.session.rollback()
    assert decisions(deliverable.id) == [] and version.status is VersionStatus.IN_REVIEW


def test_deciding_twice_is_refused(world, priya):
    """Under the "all" rule an approver who approved cannot decide again."""
    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    approve(world.own_client, version)
    with pytest.raises(Conflict, match="You already approved version 1"):
        service.decide(world.own_client, version, outcome=CHANGES, reason_category="quality", text="Wait")
    db.session.rollback()
    assert len(decisions(deliverable.id)) == 1


@pytest.mark.parametrize("who", ["reader", "manager", "admin", "other_client"])
def test_only_approvers_decide(world, reader, who):
    """Readers, staff and other organisations' clients cannot decide."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    actor = reader if who == "reader" else getattr(world, who)
    with pytest.raises(NotAllowed):
        service.decide(actor, version, outcome=APPROVE)


def test_a_deactivated_approver_no_longer_decides_or_counts(world, priya):
    """An approver whose account was deactivated is not asked, cannot decide and is not waited for."""
    use_rule(world, ApprovalRule.ALL)
    priya.active = False
    db.session.commit()
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    assert [e.to_address for e in emails("deliverable_submitted")] == [world.own_client.email]
    with pytest.raises(NotAllowed):
        service.decide(priya, version, outcome=APPROVE)
    db.session.rollback()
    approve(world.own_client, version)
    assert deliverable.status is DeliverableStatus.APPROVED


# --- The "all approvers" rule -------------------------------------------------------------


def test_all_rule_waits_for_every_approver(world, priya):
    """One approval leaves the version in review, saying who still has to decide; the last one approves it."""
    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)

    approve(world.own_client, version)
    assert (version.status, deliverable.status) == (VersionStatus.IN_REVIEW, DeliverableStatus.IN_REVIEW)
    state = review.review_state(world.project, version)
    assert [p.display_name for p in state.waiting_for] == ["Priya Second"]
    assert "Still to decide: Priya Second" in emails("deliverable_decided")[0].text_body
    assert events("deliverable.approved")[0].data["settled"] is None

    approve(priya, version)
    assert (version.status, deliverable.status) == (VersionStatus.APPROVED, DeliverableStatus.APPROVED)
    assert review.review_state(world.project, version).waiting_for == []
    assert len(emails("deliverable_decided")) == 2


def test_all_rule_one_request_for_changes_is_enough(world, priya):
    """After one approval, a request for changes settles the version; the last approver is then too late."""
    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    approve(world.own_client, version)
    request_changes(priya, version, "Wrong phone number on the contact page", ReasonCategory.FACTUAL_ERROR)
    assert (version.status, deliverable.status) == (VersionStatus.CHANGES_REQUESTED, DeliverableStatus.CHANGES_REQUESTED)

    v2 = submit(world.manager, deliverable)
    request_changes(world.own_client, v2, "Off brief", ReasonCategory.OFF_BRIEF)
    with pytest.raises(Conflict, match="already requested changes on version 2"):
        service.decide(priya, v2, outcome=APPROVE)


def test_the_rule_in_force_when_deciding_applies(world, priya):
    """Switching the project to "any" mid-review: the next approval settles the version."""
    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    use_rule(world, ApprovalRule.ANY)
    approve(priya, version)
    assert version.status is VersionStatus.APPROVED


def test_when_the_missing_approver_leaves_the_approvals_in_settle_the_version(world, priya):
    """Under "all", Priya has not decided when she is taken off the project: Ayşe's approval now settles it."""
    from portal.projects import service as projects

    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    approve(world.own_client, version)
    untouched = submit(world.manager, make_deliverable(world.manager, world.project, title="Brand book"))
    member = db.session.scalar(select(ProjectMember).where(ProjectMember.user_id == priya.id))
    projects.remove_member(world.manager, member)
    db.session.commit()
    assert (version.status, deliverable.status) == (VersionStatus.APPROVED, DeliverableStatus.APPROVED)
    assert untouched.status is VersionStatus.IN_REVIEW  # nobody approved it: it still waits
    assert [e.data["version"] for e in events("deliverable.settled_by_rule")] == [1]


def test_when_the_missing_approver_is_deactivated_the_approvals_in_settle_the_version(world, priya):
    """Under "all", Priya's account is deactivated before she decided: Ayşe's approval now settles it."""
    from portal.auth import service as accounts

    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    approve(world.own_client, version)
    accounts.set_active(world.admin, priya, False)
    db.session.commit()
    assert (version.status, deliverable.status) == (VersionStatus.APPROVED, DeliverableStatus.APPROVED)


def test_switching_to_any_settles_a_version_someone_already_approved(world, priya):
    """Under "all", one approval is in; the project switches to "any": that approval settles the version."""
    from portal.projects import service as projects

    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    approve(world.own_client, version)
    projects.update_project(world.manager, world.project, {"approval_rule": "any"})
    db.session.commit()
    assert deliverable.status is DeliverableStatus.APPROVED and deliverable.approved_at is not None


# --- Versions that are no longer current ---------------------------------------------------


def test_a_new_version_replaces_one_in_review_and_old_decisions_stay(world, priya):
    """Staff replace version 1 while it is in review: its approval stays on record, deciding on it is refused."""
    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    v1 = submit(world.manager, deliverable)
    approve(world.own_client, v1)
    v2 = submit(world.manager, deliverable, notes="Fixed a typo")

    assert (v1.status, v2.status, v2.round) == (VersionStatus.SUPERSEDED, VersionStatus.IN_REVIEW, 0)
    assert [d.version_id for d in decisions(deliverable.id)] == [v1.id]
    with pytest.raises(Conflict, match="Version 1 is no longer the current one: version 2 was submitted since"):
        service.decide(priya, v1, outcome=APPROVE)
    db.session.rollback()
    assert events("deliverable.version_submitted")[1].data["superseded"] == 1
    # Version 2 needs its own decisions from everyone.
    assert [p.display_name for p in review.review_state(world.project, v2).waiting_for] == ["Ayşe Client", "Priya Second"]
    approve(world.own_client, v2)
    assert v2.status is VersionStatus.IN_REVIEW


# --- Rounds -------------------------------------------------------------------------------


def test_rounds_past_the_agreement_need_an_impact_note(world):
    """One round included: version 3 is over the agreed rounds and needs a note on the impact on the client."""
    deliverable = make_deliverable(world.manager, world.project, included_rounds=1)
    v1 = submit(world.manager, deliverable)
    request_changes(world.own_client, v1)
    v2 = submit(world.manager, deliverable)
    assert (v2.round, v2.over_rounds) == (1, False)
    request_changes(world.own_client, v2, "Now the colours", ReasonCategory.NEW_REQUEST)

    v3 = service.start_version(world.manager, deliverable)
    add_file(world.manager, v3)
    db.session.commit()
    assert queries.next_round(deliverable) == 2
    with pytest.raises(DomainError) as refused:
        service.submit_version(world.manager, v3, change_notes="New colours")
    assert refused.value.field == "impact_note"
    db.session.rollback()

    v3 = queries.draft_of(deliverable)
    service.submit_version(world.manager, v3, change_notes="New colours", impact_note="Two more days; billed as extra hours")
    db.session.commit()
    assert (v3.round, v3.over_rounds) == (2, True)
    email = emails("deliverable_submitted")[-1]
    assert "past the 1 revision rounds agreed" in email.text_body and "Two more days; billed as extra hours" in email.text_body
    assert queries.Row(deliverable, v3).over_rounds


# --- Reopening ----------------------------------------------------------------------------


def test_only_an_admin_reopens_an_approved_deliverable_with_a_reason(world):
    """Managers cannot reopen; an admin must give a reason, which stays on record; the next version is a new round."""
    deliverable = make_deliverable(world.manager, world.project)
    v1 = submit(world.manager, deliverable)
    with pytest.raises(Conflict):
        service.reopen(world.admin, deliverable, "Not approved yet")
    db.session.rollback()
    approve(world.own_client, v1)

    with pytest.raises(NotAllowed):
        service.reopen(world.manager, deliverable, "The client asked")
    with pytest.raises(DomainError) as refused:
        service.reopen(world.admin, deliverable, "  ")
    assert refused.value.field == "reason"
    db.session.rollback()

    reopening = service.reopen(world.admin, deliverable, "The client's legal team found a wrong claim")
    db.session.commit()
    assert deliverable.status is DeliverableStatus.REOPENED and not deliverable.is_locked
    assert (reopening.version_number, reopening.reopened_by_id) == (1, world.admin.id)
    assert v1.status is VersionStatus.APPROVED  # the approval itself stays in the record
    assert sorted(e.to_address for e in emails("deliverable_reopened")) == sorted([world.own_client.email, world.manager.email])
    v2 = submit(world.manager, deliverable, notes="Removed the claim")
    assert (v2.round, deliverable.status) == (1, DeliverableStatus.IN_REVIEW)


# --- The permanent record -----------------------------------------------------------------


def test_decisions_cannot_be_changed_or_deleted(world):
    """The ORM refuses edits and deletions of decisions and reopenings, one by one or in bulk."""
    deliverable = make_deliverable(world.manager, world.project)
    decision = request_changes(world.own_client, submit(world.manager, deliverable))
    decision.text = "I never said that"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(decision)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AppendOnlyError):
        db.session.execute(update(Decision).values(text="Rewritten"))
    with pytest.raises(AppendOnlyError):
        db.session.execute(delete(Decision))
    with pytest.raises(AppendOnlyError):
        db.session.execute(delete(DeliverableReopening))
    db.session.rollback()
    assert decisions(deliverable.id)[0].text == "The logo is too small"


def test_the_database_keeps_one_decision_per_approver_and_version(world):
    """The unique constraint refuses a second decision even if the service is bypassed."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    approve(world.own_client, version)
    db.session.add(Decision(deliverable=deliverable, version=version, approver=world.own_client, outcome=APPROVE, decided_at=utcnow()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- Races --------------------------------------------------------------------------------


def _two_sessions(app: Flask):
    """Return two independent sessions on the test database (two requests, two connections)."""
    return Session(db.engine), Session(db.engine)


def _as(session: Session):
    """Make ``db.session`` (which the services use) mean ``session`` for the current scope."""
    db.session.registry.set(session)


def test_two_approvers_racing_under_any_record_one_outcome(app, world, priya):
    """Both read version 1 in review; Ayşe approves first; Priya's request for changes is refused, naming Ayşe."""
    deliverable = make_deliverable(world.manager, world.project)
    version_id = submit(world.manager, deliverable).id
    original = db.session.registry()
    first, second = _two_sessions(app)
    try:
        seen = []
        for session, user_id in ((first, world.own_client.id), (second, priya.id)):
            _as(session)
            version = session.get(DeliverableVersion, version_id)
            version.deliverable.project.members  # noqa: B018 - everything the page showed is loaded
            seen.append((session.get(User, user_id), version))
        _as(first)
        service.decide(seen[0][0], seen[0][1], outcome=APPROVE)
        first.commit()
        _as(second)
        with pytest.raises(Conflict, match="Ayşe Client already approved version 1"):
            service.decide(seen[1][0], seen[1][1], outcome=CHANGES, reason_category="quality", text="Too dark")
        second.rollback()
    finally:
        _as(original)
        first.close()
        second.close()
    db.session.expire_all()
    assert [(d.approver_id, d.outcome) for d in decisions(deliverable.id)] == [(world.own_client.id, APPROVE)]
    assert db.session.get(Deliverable, deliverable.id).status is DeliverableStatus.APPROVED
    assert len(emails("deliverable_decided")) == 1 and len(events("deliverable.changes_requested")) == 0


def test_a_double_click_records_one_decision(app, world):
    """The same approver's two requests read the same state: the second is refused as deciding twice."""
    deliverable = make_deliverable(world.manager, world.project)
    version_id = submit(world.manager, deliverable).id
    original = db.session.registry()
    first, second = _two_sessions(app)
    try:
        seen = []
        for session in (first, second):
            _as(session)
            seen.append((session.get(User, world.own_client.id), session.get(DeliverableVersion, version_id)))
        for session, (user, version) in zip((first, second), seen, strict=True):
            _as(session)
            if session is first:
                service.decide(user, version, outcome=APPROVE)
                session.commit()
            else:
                with pytest.raises(Conflict, match="You already approved version 1"):
                    service.decide(user, version, outcome=APPROVE)
                session.rollback()
    finally:
        _as(original)
        first.close()
        second.close()
    db.session.expire_all()
    assert len(decisions(deliverable.id)) == 1


def test_deciding_on_a_version_replaced_meanwhile_is_refused(app, world):
    """The approver's page shows version 1; staff submit version 2 before the approval arrives: 409, nothing recorded."""
    deliverable = make_deliverable(world.manager, world.project)
    version_id = submit(world.manager, deliverable).id
    original = db.session.registry()
    approver_session = Session(db.engine)
    try:
        _as(approver_session)
        user = approver_session.get(User, world.own_client.id)
        stale = approver_session.get(DeliverableVersion, version_id)
        stale.deliverable  # noqa: B018
        _as(original)
        submit(world.manager, db.session.get(Deliverable, deliverable.id), notes="A better one")
        _as(approver_session)
        with pytest.raises(Conflict, match="Version 1 is no longer the current one"):
            service.decide(user, stale, outcome=APPROVE)
        approver_session.rollback()
    finally:
        _as(original)
        approver_session.close()
    db.session.expire_all()
    assert decisions(deliverable.id) == []
    assert db.session.get(Deliverable, deliverable.id).status is DeliverableStatus.IN_REVIEW


def _decides(version_id: int, user_id: int, outcome: DecisionOutcome):
    """Return a race action: load the version as its page would, wait for the others, then decide."""

    def action(barrier: threading.Barrier) -> None:
        version = db.session.get(DeliverableVersion, version_id)
        user = db.session.get(User, user_id)
        version.deliverable.project  # noqa: B018 - read what the page showed before the race
        barrier.wait()
        service.decide(user, version, outcome=outcome, reason_category="quality" if outcome is CHANGES else None, text="Sharper photos")

    return action


def test_approval_and_request_for_changes_at_once_under_any(app, world, priya):
    """Two threads decide opposite things at the same moment: one outcome stands, the other is told (a Conflict)."""
    deliverable = make_deliverable(world.manager, world.project)
    version_id, deliverable_id = submit(world.manager, deliverable).id, deliverable.id
    user_ids = (world.own_client.id, priya.id)
    db.session.remove()

    results = race(app, _decides(version_id, user_ids[0], APPROVE), _decides(version_id, user_ids[1], CHANGES))
    assert sum(r is None for r in results) == 1 and all(isinstance(r, Conflict) for r in results if r is not None), results
    (decision,) = decisions(deliverable_id)
    settled = db.session.get(Deliverable, deliverable_id).status
    expected = DeliverableStatus.APPROVED if decision.outcome is APPROVE else DeliverableStatus.CHANGES_REQUESTED
    assert settled is expected
    assert len(emails("deliverable_decided")) == 1


def test_two_approvals_at_once_under_all_both_count(app, world, priya):
    """Both approvers approve at the same moment under "all": the later one re-reads, and the version is approved."""
    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version_id, deliverable_id = submit(world.manager, deliverable).id, deliverable.id
    user_ids = (world.own_client.id, priya.id)
    db.session.remove()

    results = race(app, *(_decides(version_id, user_id, APPROVE) for user_id in user_ids))
    assert results == [None, None]
    assert len(decisions(deliverable_id)) == 2
    assert db.session.get(Deliverable, deliverable_id).status is DeliverableStatus.APPROVED
    assert db.session.get(DeliverableVersion, version_id).status is VersionStatus.APPROVED


def test_the_same_approver_twice_at_once_records_one_decision(app, world):
    """A double click that reaches two workers at the same moment: one decision, one Conflict."""
    deliverable = make_deliverable(world.manager, world.project)
    version_id, deliverable_id = submit(world.manager, deliverable).id, deliverable.id
    user_id = world.own_client.id
    db.session.remove()

    results = race(app, _decides(version_id, user_id, CHANGES), _decides(version_id, user_id, CHANGES))
    assert sum(r is None for r in results) == 1 and any(isinstance(r, Conflict) for r in results), results
    assert len(decisions(deliverable_id)) == 1


def test_an_approval_racing_the_removal_of_the_last_missing_approver_settles_the_version(app, world, priya, make_user):
    """Under "all", Ayşe approved; Priya approves while the manager takes Cem off: the version ends approved, not stuck."""
    from portal.projects import service as projects

    cem = make_user(Role.CLIENT, world.own_org, name="Cem Third", email="cem@example.com")
    db.session.add(ProjectMember(project=world.project, user=cem, is_approver=True))
    use_rule(world, ApprovalRule.ALL)
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    approve(world.own_client, version)
    version_id, deliverable_id, manager_id, cem_id, priya_id = version.id, deliverable.id, world.manager.id, cem.id, priya.id
    db.session.remove()

    def removes_cem(barrier: threading.Barrier) -> None:
        member = db.session.scalar(select(ProjectMember).where(ProjectMember.user_id == cem_id))
        manager = db.session.get(User, manager_id)
        barrier.wait()
        projects.remove_member(manager, member)

    results = race(app, _decides(version_id, priya_id, APPROVE), removes_cem)
    assert results == [None, None], results
    assert db.session.get(Deliverable, deliverable_id).status is DeliverableStatus.APPROVED
    assert db.session.get(DeliverableVersion, version_id).status is VersionStatus.APPROVED


# --- Conversation -------------------------------------------------------------------------


def test_every_member_comments_and_the_other_side_hears(world, reader):
    """A reader's comment reaches the manager; the manager's reaches the client members; strangers cannot write."""
    deliverable = make_deliverable(world.manager, world.project)
    service.add_comment(reader, deliverable, "Can we see it on a phone too?")
    db.session.commit()
    assert [e.to_address for e in emails("deliverable_comment")] == [world.manager.email]
    assert f"/deliverables/{deliverable.id}#comment-" in emails("deliverable_comment")[0].text_body
    service.add_comment(world.manager, deliverable, "Yes: the staging link works on phones.")
    db.session.commit()
    assert sorted(e.to_address for e in emails("deliverable_comment")[1:]) == sorted([world.own_client.email, reader.email])
    for stranger in (world.other_client, world.other_manager):
        with pytest.raises(NotAllowed):
            service.add_comment(stranger, deliverable, "Hello")
    with pytest.raises(DomainError) as refused:
        service.add_comment(reader, deliverable, "   ")
    assert refused.value.field == "body"


def test_archived_projects_are_read_only(world):
    """Nothing is decided, submitted or said on an archived project."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    world.project.archived_at = utcnow()
    db.session.commit()
    for attempt in (
        lambda: service.decide(world.own_client, version, outcome=APPROVE),
        lambda: service.add_comment(world.own_client, deliverable, "Hello"),
        lambda: service.start_version(world.manager, deliverable),
    ):
        with pytest.raises(DomainError, match="archived"):
            attempt()


# --- Lists and the weekly update's facts -------------------------------------------------




def test_deliverable_facts_for_the_weekly_update(world, priya, count_queries):
    """Overdue, waiting on the client (since when, for whom), the week's decisions, next due dates and rounds."""
    use_rule(world, ApprovalRule.ALL)
    today = project_today(world.project)
    late = make_deliverable(world.manager, world.project, title="Logo", due_date=today + timedelta(days=5))
    waiting = make_deliverable(world.manager, world.project, title="Homepage", due_date=today + timedelta(days=3), included_rounds=0)
    make_deliverable(world.manager, world.project, title="Brand book", due_date=today + timedelta(days=20))
    v1 = submit(world.manager, waiting)
    request_changes(world.own_client, v1, "Use the new photos", ReasonCategory.NEW_REQUEST)
    v2 = submit(world.manager, waiting, impact="One extra day")
    approve(world.own_client, v2, "Better")
    late.due_date = today - timedelta(days=2)
    db.session.commit()

    now = utcnow()
    with count_queries() as q:
        facts = deliverable_facts(world.project, now - timedelta(days=7), now + timedelta(seconds=1), now)
    assert q.count <= 5

    assert [(f["title"], f["days_late"], f["waiting_on"]) for f in facts["overdue"]] == [("Logo", 2, "agency")]
    (entry,) = facts["waiting_on_client"]
    assert (entry["title"], entry["version"], entry["waiting_for"]) == ("Homepage", 2, ["Priya Second"])
    assert entry["link"] == f"/deliverables/{waiting.id}" and entry["since"] == v2.submitted_at.isoformat()
    assert [(d["approver"], d["outcome"], d["reason"], d["text"]) for d in facts["decisions"]] == [
        ("Ayşe Client", "changes_requested", "new_request", "Use the new photos"),
        ("Ayşe Client", "approve", None, "Better"),
    ]
    assert [(f["title"], f["days_left"]) for f in facts["next_due"]] == [("Homepage", 3), ("Brand book", 20)]
    assert [(f["title"], f["used"], f["included"], f["over"]) for f in facts["rounds"]] == [("Homepage", 1, 0, True)]
    earlier = deliverable_facts(world.project, now - timedelta(days=14), now - timedelta(days=7), now)
    assert earlier["decisions"] == []
