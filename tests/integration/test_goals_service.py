"""The goal charter's rules, transition by transition, including the ones it refuses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.goals import notifications, queries, service
from portal.goals import terms as goal_terms  # ``terms`` here is the builder from goals_support
from portal.models import (
    AssumptionStatus,
    CloseOutcome,
    ClosureStatus,
    Goal,
    GoalSignature,
    GoalState,
    MeasureKind,
    ProjectMember,
    Role,
    Side,
)
from portal.timeutil import project_today, utcnow
from tests.fixtures.activity import verbs
from tests.fixtures.outbox import emails
from tests.fixtures.race import race
from tests.integration.goals_support import agree, agreed_goal, propose, terms


@pytest.fixture(autouse=True)
def request_context(app):
    """Run the services inside a request, as views do (their messages are translated lazily for the reader)."""
    with app.test_request_context():
        yield


@pytest.fixture
def reader(world, make_user):
    """A client member of the project who is not an approver: reads and comments only."""
    user = make_user(Role.CLIENT, world.own_org, name="Mert Reader", email="mert@example.com", language="tr")
    db.session.add(ProjectMember(project=world.project, user=user, is_approver=False))
    db.session.commit()
    return user


def today(world):
    """Return today in the project's time zone."""
    return project_today(world.project)


# --- Proposing ---------------------------------------------------------------------


def test_manager_proposes_a_goal_signed_by_the_agency_and_waiting_for_the_client(world):
    """A proposal is revision 1, signed by the proposer's side, and the client approver is told."""
    world.own_client.language = "tr"
    db.session.commit()
    goal = propose(world.manager, world.project)

    assert goal.state is GoalState.PROPOSED
    assert goal.current_number == 1 and goal.agreed_number is None
    revision = goal.current_revision
    assert [(s.side, s.user, s.implied) for s in revision.signatures] == [(Side.AGENCY, world.manager, True)]
    assert queries.missing_sides(revision) == [Side.CLIENT]
    assert [(a.text, a.side, a.status) for a in goal.assumptions] == [
        ("Product photos arrive by the end of the month", Side.AGENCY, AssumptionStatus.OPEN)
    ]
    assert verbs() == ["goal.proposed"]
    [email] = emails()
    assert (email.to_address, email.kind, email.language) == (world.own_client.email, "goal_proposed", "tr")
    assert "More online orders" in email.subject and f"/goals/{goal.id}" in email.text_body


def test_client_approver_proposes_and_the_manager_is_told(world):
    """Either side proposes: a client approver's proposal waits for the agency."""
    goal = propose(world.own_client, world.project)
    assert goal.current_revision.side is Side.CLIENT
    assert queries.missing_sides(goal.current_revision) == [Side.AGENCY]
    assert [e.to_address for e in emails("goal_proposed")] == [world.manager.email]


def test_admin_signs_for_the_agency(world):
    """An admin acts for the agency on any project."""
    assert service.side_of(world.admin, world.project) is Side.AGENCY
    goal = propose(world.own_client, world.project)
    agree(goal, world.admin)
    assert goal.state is GoalState.AGREED


@pytest.mark.parametrize("who", ["reader", "other_client", "other_manager"])
def test_only_the_two_sides_propose(world, reader, who):
    """A non-approver, another organisation's client and another manager cannot propose."""
    actor = reader if who == "reader" else getattr(world, who)
    with pytest.raises(NotAllowed):
        service.propose_goal(actor, world.project, terms())
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 0


def test_no_goal_on_an_archived_project(world):
    """An archived project's goals can no longer change."""
    world.project.archived_at = utcnow()
    db.session.commit()
    with pytest.raises(DomainError):
        service.propose_goal(world.manager, world.project, terms())


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"metric_name": ""}, "metric_name"),
        ({"baseline": None}, "baseline"),
        ({"target": None}, "target"),
        ({"target": Decimal(120)}, "target"),
        ({"unit": "bananas"}, "unit"),
        ({"target_date": None}, "target_date"),
        ({"measure": MeasureKind.DONE_WHEN, "done_when": " "}, "done_when"),
        ({"assumptions": [f"Assumption {n}" for n in range(21)]}, "assumptions"),
        ({"assumptions": ["x" * 501]}, "assumptions"),
    ],
)
def test_bad_terms_are_refused_on_their_field(world, values, field):
    """Each broken term is refused with an error on its own field, and nothing is stored."""
    with pytest.raises(DomainError) as refused:
        service.propose_goal(world.manager, world.project, terms(**values))
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 0


def test_a_target_date_in_the_past_is_refused(world):
    """Yesterday, in the project's time zone, is too late for a target."""
    with pytest.raises(DomainError) as refused:
        service.propose_goal(world.manager, world.project, terms(target_date=today(world) - timedelta(days=1)))
    assert refused.value.field == "target_date"
    goal = service.propose_goal(world.manager, world.project, terms(target_date=today(world)))
    assert goal.current_revision.target_date == today(world)


def test_done_when_goal_keeps_only_its_statement(world):
    """A "done when" goal stores its statement and drops stray metric fields."""
    goal = propose(world.manager, world.project, measure=MeasureKind.DONE_WHEN, done_when="The new checkout is live")
    revision = goal.current_revision
    assert (revision.done_when, revision.metric_name, revision.baseline, revision.unit) == ("The new checkout is live", "", None, "")


# --- Signing -----------------------------------------------------------------------


def test_the_other_side_signs_and_the_goal_is_agreed(world):
    """With both sides on the same revision the goal is agreed, from today, and the manager hears of it."""
    goal = propose(world.manager, world.project)
    agree(goal, world.own_client)

    assert goal.state is GoalState.AGREED
    assert goal.agreed_number == 1
    revision = goal.agreed_revision
    assert revision.is_agreed and revision.agreed_on == today(world)
    assert verbs() == ["goal.proposed", "goal.agreed"]
    [email] = emails("goal_signed")
    assert email.to_address == world.manager.email and email.subject.startswith("Goal agreed")


def test_a_side_signs_a_revision_only_once(world):
    """The proposer's side has signed already: signing again is refused."""
    goal = propose(world.manager, world.project)
    for signer in (world.manager, world.admin):
        with pytest.raises(DomainError, match="already signed"):
            service.sign_revision(signer, goal, seen=1)
    assert goal.state is GoalState.PROPOSED


def test_signing_a_revision_that_is_no_longer_current_names_the_current_one(world):
    """A signature on revision 1 after revision 2 was proposed is a conflict naming revision 2."""
    goal = propose(world.manager, world.project)
    service.revise_goal(world.manager, goal, terms(target=Decimal(180)), seen=1)
    db.session.commit()
    with pytest.raises(Conflict, match="revision 2 is now the current one"):
        service.sign_revision(world.own_client, goal, seen=1)
    db.session.rollback()
    assert goal.state is GoalState.PROPOSED and goal.agreed_number is None


def test_a_client_who_is_not_an_approver_cannot_sign_or_decline(world, reader):
    """A non-approver reads and comments, but neither signs nor declines."""
    goal = propose(world.manager, world.project)
    with pytest.raises(NotAllowed, match="You can read and comment"):
        service.sign_revision(reader, goal, seen=1)
    with pytest.raises(NotAllowed):
        service.decline_revision(reader, goal, seen=1, reason="No")
    service.add_comment(reader, goal, "Can we talk about the photos?")
    db.session.commit()
    assert [c.body for c in goal.comments] == ["Can we talk about the photos?"]


def test_a_deactivated_approver_cannot_sign(world):
    """An account that was switched off no longer acts."""
    goal = propose(world.manager, world.project)
    world.own_client.active = False
    db.session.commit()
    with pytest.raises(NotAllowed):
        service.sign_revision(world.own_client, goal, seen=1)


# --- Counter-proposals ----------------------------------------------------------------


def test_a_counter_proposal_resets_signatures(world):
    """New terms are a new revision signed only by their proposer; revision 1's signature no longer counts."""
    goal = propose(world.manager, world.project)
    revision = service.revise_goal(world.own_client, goal, terms(target=Decimal(170)), seen=1, note="Too ambitious")
    db.session.commit()

    assert (revision.number, goal.current_number, goal.state) == (2, 2, GoalState.PROPOSED)
    assert [(s.side, s.implied) for s in revision.signatures] == [(Side.CLIENT, True)]
    assert queries.missing_sides(revision) == [Side.AGENCY]
    assert [c.name for c in goal_terms.changes(goal.revision(1), revision)] == ["target"]
    assert verbs() == ["goal.proposed", "goal.revised"]
    assert [e.to_address for e in emails("goal_revised")] == [world.manager.email]

    agree(goal, world.manager)
    assert (goal.state, goal.agreed_number) == (GoalState.AGREED, 2)


def test_changing_agreed_terms_keeps_them_in_force_until_both_sign_again(world):
    """A counter-proposal on an agreed goal waits for both signatures; the agreed revision stays in force."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    service.revise_goal(world.manager, goal, terms(target=Decimal(240)), seen=1)
    db.session.commit()

    assert goal.state is GoalState.AGREED and goal.agreed_number == 1
    assert goal.change_pending and goal.terms.target == Decimal(200)
    agree(goal, world.own_client)
    assert goal.agreed_number == 2 and not goal.change_pending and goal.terms.target == Decimal(240)


def test_a_counter_proposal_must_change_something(world):
    """Sending the same terms again is refused: agree to them instead."""
    goal = propose(world.manager, world.project)
    with pytest.raises(DomainError, match="Nothing changed"):
        service.revise_goal(world.own_client, goal, terms(title="  More   online orders "), seen=1)


def test_a_counter_proposal_on_stale_terms_is_a_conflict(world):
    """Editing from revision 1 after revision 2 exists is refused, naming revision 2."""
    goal = propose(world.manager, world.project)
    service.revise_goal(world.own_client, goal, terms(target=Decimal(170)), seen=1)
    db.session.commit()
    with pytest.raises(Conflict, match="revision 2"):
        service.revise_goal(world.manager, goal, terms(target=Decimal(190)), seen=1)


def test_unchanged_assumptions_keep_their_answers_across_revisions(world):
    """An assumption kept word for word keeps its confirmation; a removed one is withdrawn; a new one is open."""
    goal = propose(world.manager, world.project, assumptions=["Photos by March", "Budget approved"])
    photos, budget = goal.assumptions
    service.answer_assumption(world.own_client, photos, confirmed=True)
    db.session.commit()
    service.revise_goal(world.own_client, goal, terms(assumptions=["Photos by March", "Two campaigns a month"]), seen=1)
    db.session.commit()

    assert photos.status is AssumptionStatus.CONFIRMED and photos.removed_in is None
    assert budget.removed_in == 2
    new = goal.active_assumptions[-1]
    assert (new.text, new.side, new.added_in, new.status) == ("Two campaigns a month", Side.CLIENT, 2, AssumptionStatus.OPEN)
    assert goal_terms.assumption_changes(goal, 2) == ([new], [budget])


# --- Declining -------------------------------------------------------------------------


def test_the_other_side_declines_with_a_reason(world):
    """A declined proposal is marked, the proposer is told why, and new terms can reopen it."""
    goal = propose(world.manager, world.project)
    with pytest.raises(DomainError) as refused:
        service.decline_revision(world.own_client, goal, seen=1, reason="   ")
    assert refused.value.field == "reason"
    service.decline_revision(world.own_client, goal, seen=1, reason="We cannot staff this before summer")
    db.session.commit()

    assert goal.state is GoalState.DECLINED and not goal.awaiting_signature
    assert goal.current_revision.decline_reason == "We cannot staff this before summer"
    [email] = emails("goal_declined")
    assert email.to_address == world.manager.email and "We cannot staff this before summer" in email.text_body
    with pytest.raises(DomainError, match="declined"):
        service.sign_revision(world.manager, goal, seen=1)

    service.revise_goal(world.manager, goal, terms(target_date=today(world) + timedelta(days=200)), seen=1)
    db.session.commit()
    assert goal.state is GoalState.PROPOSED and goal.awaiting_signature


def test_the_proposer_cannot_decline_their_own_proposal(world):
    """The side that signed a revision proposes new terms or drops the goal instead."""
    goal = propose(world.manager, world.project)
    with pytest.raises(DomainError, match="Propose new terms or drop"):
        service.decline_revision(world.manager, goal, seen=1, reason="Changed my mind")


def test_declining_new_terms_keeps_the_agreed_ones(world):
    """Declining a counter-proposal of an agreed goal leaves the agreed revision in force."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    service.revise_goal(world.manager, goal, terms(target=Decimal(260)), seen=1)
    db.session.commit()
    service.decline_revision(world.own_client, goal, seen=2, reason="Too much")
    db.session.commit()
    assert goal.state is GoalState.AGREED and goal.agreed_number == 1 and not goal.change_pending


def test_an_agreed_revision_cannot_be_declined(world):
    """Once both sides signed, the way to change course is new terms."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    with pytest.raises(DomainError, match="is agreed"):
        service.decline_revision(world.own_client, goal, seen=1, reason="Hmm")


# --- Assumptions ----------------------------------------------------------------------------


def test_the_other_side_confirms_or_denies_an_assumption(world, reader):
    """The client answers the agency's assumption; a denial needs a note; the agency is told."""
    goal = propose(world.manager, world.project)
    [assumption] = goal.assumptions
    with pytest.raises(NotAllowed, match="Your side wrote"):
        service.answer_assumption(world.manager, assumption, confirmed=True)
    with pytest.raises(NotAllowed):
        service.answer_assumption(reader, assumption, confirmed=True)
    with pytest.raises(DomainError) as refused:
        service.answer_assumption(world.own_client, assumption, confirmed=False, note="")
    assert refused.value.field == "note"

    service.answer_assumption(world.own_client, assumption, confirmed=False, note="The photographer is booked in May")
    db.session.commit()
    assert assumption.status is AssumptionStatus.DENIED and goal.unconfirmed_assumptions == [assumption]
    service.answer_assumption(world.own_client, assumption, confirmed=True, note="Rebooked for March")
    db.session.commit()
    assert assumption.status is AssumptionStatus.CONFIRMED and goal.unconfirmed_assumptions == []
    assert verbs().count("goal.assumption_answered") == 2
    assert [e.to_address for e in emails("goal_assumption")] == [world.manager.email] * 2


def test_a_withdrawn_assumption_cannot_be_answered(world):
    """An assumption the latest terms dropped is history, not a question."""
    goal = propose(world.manager, world.project)
    [assumption] = goal.assumptions
    service.revise_goal(world.manager, goal, terms(assumptions=[]), seen=1)
    db.session.commit()
    with pytest.raises(DomainError, match="withdrawn in revision 2"):
        service.answer_assumption(world.own_client, assumption, confirmed=True)


# --- Check-ins --------------------------------------------------------------------------


def test_staff_record_check_ins_on_agreed_goals_and_every_client_member_hears(world, reader, make_user):
    """A check-in records the actual value; client members (approvers or not) who want email get one."""
    quiet = make_user(Role.CLIENT, world.own_org, email="quiet@example.com", notify_activity=False)
    db.session.add(ProjectMember(project=world.project, user=quiet, is_approver=True))
    db.session.commit()
    goal = agreed_goal(world.manager, world.own_client, world.project)
    check_in = service.record_check_in(world.manager, goal, measured_on=today(world), value=Decimal(131), note="Campaign started")
    db.session.commit()

    assert (check_in.value, check_in.revision_number, check_in.recorded_by) == (Decimal(131), 1, world.manager)
    assert sorted(e.to_address for e in emails("goal_check_in")) == sorted([world.own_client.email, reader.email])
    tr_email = next(e for e in emails("goal_check_in") if e.to_address == reader.email)
    assert tr_email.language == "tr"


def test_check_ins_are_refused_when_they_make_no_sense(world):
    """Clients do not record, unagreed goals have nothing to measure, dates stay in the agreed past."""
    goal = propose(world.manager, world.project)
    with pytest.raises(DomainError, match="once both sides have agreed"):
        service.record_check_in(world.manager, goal, measured_on=today(world), value=Decimal(1))
    agree(goal, world.own_client)
    with pytest.raises(NotAllowed):
        service.record_check_in(world.own_client, goal, measured_on=today(world), value=Decimal(1))
    for day, field in ((today(world) + timedelta(days=1), "measured_on"), (today(world) - timedelta(days=1), "measured_on")):
        with pytest.raises(DomainError) as refused:
            service.record_check_in(world.manager, goal, measured_on=day, value=Decimal(1))
        assert refused.value.field == field
    with pytest.raises(DomainError) as refused:
        service.record_check_in(world.manager, goal, measured_on=today(world), value=None)
    assert refused.value.field == "value"


def test_done_when_goals_are_marked_done_or_not(world):
    """A "done when" check-in says done or not done, nothing else."""
    goal = agreed_goal(world.manager, world.own_client, world.project, measure=MeasureKind.DONE_WHEN, done_when="Checkout live")
    with pytest.raises(DomainError) as refused:
        service.record_check_in(world.manager, goal, measured_on=today(world))
    assert refused.value.field == "done"
    check_in = service.record_check_in(world.manager, goal, measured_on=today(world), done=True, value=Decimal(5))
    assert (check_in.done, check_in.value) == (True, None)


# --- Comments -------------------------------------------------------------------------


def test_comments_need_words_and_membership(world):
    """An empty message is refused; someone outside the project cannot write."""
    goal = propose(world.manager, world.project)
    with pytest.raises(DomainError) as refused:
        service.add_comment(world.own_client, goal, "  ")
    assert refused.value.field == "body"
    with pytest.raises(NotAllowed):
        service.add_comment(world.other_client, goal, "Hello")
    service.add_comment(world.own_client, goal, "Looks good")
    db.session.commit()
    assert verbs()[-1] == "goal.commented"


def test_a_comment_is_emailed_to_the_other_side_only(world, make_user):
    """The manager hears of a client's message and every client member of a manager's one; nobody of their own."""
    reader = make_user(Role.CLIENT, world.own_org, name="Okan Reader", email="okan@example.com", language="tr")
    db.session.add(ProjectMember(project=world.project, user=reader, is_approver=False))
    goal = propose(world.manager, world.project)
    db.session.commit()
    service.add_comment(world.own_client, goal, "Can we start in March?")
    db.session.commit()
    assert [e.to_address for e in emails("goal_comment")] == [world.manager.email]
    assert "Can we start in March?" in emails("goal_comment")[0].text_body
    service.add_comment(world.manager, goal, "March works for us.")
    db.session.commit()
    to_clients = emails("goal_comment")[1:]
    assert sorted(e.to_address for e in to_clients) == sorted([world.own_client.email, reader.email])
    turkish = next(e for e in to_clients if e.to_address == reader.email)
    assert turkish.language == "tr" and "March works for us." in turkish.text_body


# --- Closing ----------------------------------------------------------------------------


def test_an_agreed_goal_is_closed_as_achieved_at_once(world):
    """Achieved needs one side; the goal is closed and nothing changes it any more."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    closure = service.close_goal(world.manager, goal, outcome=CloseOutcome.ACHIEVED)
    db.session.commit()
    assert goal.state is GoalState.ACHIEVED and closure.status is ClosureStatus.CONFIRMED and goal.closed_at
    with pytest.raises(DomainError, match="closed"):
        service.revise_goal(world.manager, goal, terms(target=Decimal(300)), seen=1)
    with pytest.raises(DomainError, match="closed"):
        service.record_check_in(world.manager, goal, measured_on=today(world), value=Decimal(1))


def test_missing_an_agreed_goal_needs_both_sides(world):
    """Missed needs a reason and the impact on the client, and closes only when the other side confirms."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    with pytest.raises(DomainError) as refused:
        service.close_goal(world.manager, goal, outcome=CloseOutcome.MISSED, reason="Supplier failed")
    assert refused.value.field == "impact"
    closure = service.close_goal(
        world.manager, goal, outcome=CloseOutcome.MISSED, reason="Supplier failed", impact="Spring sales start lower"
    )
    db.session.commit()
    assert goal.state is GoalState.AGREED and closure.status is ClosureStatus.PENDING
    with pytest.raises(NotAllowed, match="other side confirms"):
        service.answer_closure(world.admin, closure, accept=True)
    with pytest.raises(DomainError, match="already waits"):
        service.close_goal(world.own_client, goal, outcome=CloseOutcome.DROPPED, reason="x")
    with pytest.raises(DomainError, match="Settle it"):
        service.revise_goal(world.manager, goal, terms(target=Decimal(300)), seen=1)

    service.answer_closure(world.own_client, closure, accept=True)
    db.session.commit()
    assert goal.state is GoalState.MISSED and closure.answered_by is world.own_client
    assert [e.subject for e in emails("goal_closure")] == [
        "Request to close More online orders",
        "Goal closed: More online orders",
    ]


def test_the_other_side_keeps_a_goal_open(world):
    """Refusing a request to drop keeps the goal agreed; the proposer may also withdraw one."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    closure = service.close_goal(world.own_client, goal, outcome=CloseOutcome.DROPPED, reason="Budget cut")
    db.session.commit()
    service.answer_closure(world.manager, closure, accept=False)
    db.session.commit()
    assert goal.state is GoalState.AGREED and closure.status is ClosureStatus.REJECTED
    with pytest.raises(DomainError, match="already answered"):
        service.answer_closure(world.manager, closure, accept=True)

    again = service.close_goal(world.own_client, goal, outcome=CloseOutcome.DROPPED, reason="Budget cut, really")
    db.session.commit()
    service.answer_closure(world.own_client, again, accept=False)  # withdrawn by the proposer
    db.session.commit()
    assert goal.state is GoalState.AGREED and again.status is ClosureStatus.REJECTED


def test_a_goal_never_agreed_is_dropped_by_either_side_at_once(world):
    """A proposal nobody agreed to can be dropped at once, with a reason; it cannot be achieved or missed."""
    goal = propose(world.manager, world.project)
    for outcome in (CloseOutcome.ACHIEVED, CloseOutcome.MISSED):
        with pytest.raises(DomainError, match="Only an agreed goal"):
            service.close_goal(world.own_client, goal, outcome=outcome, reason="x", impact="y")
    with pytest.raises(DomainError) as refused:
        service.close_goal(world.own_client, goal, outcome=CloseOutcome.DROPPED)
    assert refused.value.field == "reason"
    service.close_goal(world.own_client, goal, outcome=CloseOutcome.DROPPED, reason="Not a priority")
    db.session.commit()
    assert goal.state is GoalState.DROPPED
    with pytest.raises(DomainError, match="closed"):
        service.sign_revision(world.own_client, goal, seen=1)


# --- Emails -------------------------------------------------------------------------------


def test_emails_respect_preferences_and_go_once_per_event(world, make_user):
    """Nobody who turned activity emails off gets one, and a repeated event key queues nothing more."""
    world.manager.notify_activity = False
    db.session.commit()
    propose(world.own_client, world.project)
    assert emails() == []
    world.manager.notify_activity = True
    db.session.commit()
    goal = propose(world.own_client, world.project, title="Second goal")
    assert len(emails("goal_proposed")) == 1
    notifications.notify(
        goal, world.own_client, Side.AGENCY, kind="goal_proposed", key=f"goal:{goal.id}:r1:proposed",
        template="emails/goal_proposed.html", revision=goal.current_revision,
    )
    db.session.commit()
    assert len(emails("goal_proposed")) == 1


def test_a_failed_action_leaves_no_event_and_no_email(world):
    """A refused action writes nothing: the activity log and the outbox are unchanged."""
    goal = propose(world.manager, world.project)
    before = (len(verbs()), len(emails()))
    with pytest.raises(Conflict):
        service.sign_revision(world.own_client, goal, seen=7)
    db.session.rollback()
    assert (len(verbs()), len(emails())) == before


# --- Concurrency ---------------------------------------------------------------------------


def _assert_agreement_is_consistent(goal_id: int) -> Goal:
    """An agreed goal's agreed revision carries both signatures; no other revision is marked agreed."""
    db.session.expire_all()
    goal = db.session.get(Goal, goal_id)
    for revision in goal.revisions:
        sides = [s.side for s in revision.signatures]
        assert len(sides) == len(set(sides)), "a side signed a revision twice"
        assert (revision.agreed_at is not None) == revision.is_agreed
    if goal.state is GoalState.AGREED:
        assert goal.agreed_revision is not None and goal.agreed_revision.is_agreed
    return goal


def test_a_signature_racing_a_counter_proposal_cannot_make_mismatched_agreement(app, world):
    """Client signs revision 1 while the manager proposes revision 2: one wins, the other gets a conflict."""
    goal_id = propose(world.manager, world.project).id
    client_id, manager_id = world.own_client.id, world.manager.id
    db.session.remove()

    def client_signs(barrier):
        goal = db.session.get(Goal, goal_id)
        goal.current_revision  # noqa: B018 - read what the client sees before the race
        barrier.wait()
        service.sign_revision(db.session.get(type(world.own_client), client_id), goal, seen=1)

    def manager_revises(barrier):
        goal = db.session.get(Goal, goal_id)
        goal.current_revision  # noqa: B018
        goal.active_assumptions  # noqa: B018
        barrier.wait()
        service.revise_goal(db.session.get(type(world.manager), manager_id), goal, terms(target=Decimal(260)), seen=1)

    results = race(app, client_signs, manager_revises)
    failures = [r for r in results if r is not None]
    assert len(failures) == 1 and isinstance(failures[0], Conflict), results
    goal = _assert_agreement_is_consistent(goal_id)
    if results[0] is None:  # the signature won: agreed on revision 1, no revision 2
        assert (goal.state, goal.agreed_number, goal.current_number) == (GoalState.AGREED, 1, 1)
    else:  # the counter-proposal won: revision 2 waits for the client; nothing is agreed
        assert (goal.state, goal.agreed_number, goal.current_number) == (GoalState.PROPOSED, None, 2)
        assert "revision 2" in failures[0].message


def test_two_approvers_signing_at_once_leave_one_client_signature(app, world, make_user):
    """Two client approvers agree at the same moment: one signature counts, the other is told."""
    second = make_user(Role.CLIENT, world.own_org, email="priya@example.com")
    db.session.add(ProjectMember(project=world.project, user=second, is_approver=True))
    db.session.commit()
    goal_id = propose(world.manager, world.project).id
    signer_ids = [world.own_client.id, second.id]
    db.session.remove()

    def signs(user_id):
        def action(barrier):
            goal = db.session.get(Goal, goal_id)
            goal.current_revision.signatures  # noqa: B018
            barrier.wait()
            service.sign_revision(db.session.get(type(second), user_id), goal, seen=1)

        return action

    results = race(app, *(signs(i) for i in signer_ids))
    assert sum(r is None for r in results) == 1 and any(isinstance(r, Conflict) for r in results), results
    goal = _assert_agreement_is_consistent(goal_id)
    assert goal.state is GoalState.AGREED
    count = db.session.scalar(select(func.count()).select_from(GoalSignature).where(GoalSignature.side == Side.CLIENT))
    assert count == 1


def test_the_version_only_moves_when_the_agreement_changes(world):
    """Each decision claims the next version, so a writer holding an old one is refused."""
    goal = propose(world.manager, world.project)
    assert goal.version == 1
    agree(goal, world.own_client)
    assert goal.version == 2
    stale = goal.version - 1
    db.session.execute(Goal.__table__.update().where(Goal.id == goal.id).values(version=stale + 5))
    with pytest.raises(Conflict):
        service.revise_goal(world.manager, goal, terms(target=Decimal(230)), seen=1)
