"""The review state machine: who decides, claiming a deliverable, and how decisions settle a version.

The flow: staff create a deliverable, prepare version N as a draft (files and links,
change notes) and submit it; the project's approvers decide. Under the project's
approval rule *any*, the first decision settles the version; under *all*, it is
approved once every approver approved and sent back as soon as one requests changes.
Changes requested → version N+1, a new revision round; rounds beyond the agreed number
need a note on the impact on the client. An approved deliverable is locked until an
admin reopens it, with a reason. The commands that drive it are in
:mod:`portal.deliverables.service`.

Concurrency: every change to a deliverable's review state first *claims* the
deliverable (``UPDATE deliverables SET lock_version = :seen + 1 WHERE id = :id AND
lock_version = :seen``). Of two simultaneous decisions the second claim matches no
row (on PostgreSQL it waits for the first transaction's row lock; on SQLite for the
database lock); the loser then reads the deliverable again and re-checks the rules,
so it either proceeds on the new state (another approver's approval under *all*) or
is refused with a Conflict that says what happened. The unique (version, approver)
constraint is the last guard against deciding twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.claims import claim
from portal.errors import Conflict
from portal.extensions import db
from portal.models import ApprovalRule, Project, ProjectMember, Role, User
from portal.models.deliverables import Decision, DecisionOutcome, Deliverable, DeliverableStatus, DeliverableVersion, VersionStatus

CLAIM_ATTEMPTS = 3  # a decision re-reads and retries this often when other decisions land at the same moment

CHANGED_MEANWHILE = _l("This deliverable changed in the meantime. Here is its latest state; check it and try again.")


# --- People ---------------------------------------------------------------------------------


def approvers(project: Project) -> list[User]:
    """Return the people who decide on the project's deliverables: its active client approvers."""
    return list(
        db.session.scalars(
            select(User)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(
                ProjectMember.project_id == project.id,
                ProjectMember.is_approver.is_(True),
                User.role == Role.CLIENT,
                User.client_id == project.client_id,
                User.active.is_(True),
            )
            .order_by(User.name, User.id)
        ).all()
    )


def is_approver(user: User, project: Project) -> bool:
    """Tell whether ``user`` may decide on the project's deliverables."""
    return user.role is Role.CLIENT and any(person.id == user.id for person in approvers(project))


# --- Where a version stands -----------------------------------------------------------------


@dataclass(frozen=True)
class ReviewState:
    """Who decides on a version under the project's rule, who did, and who still has to."""

    rule: ApprovalRule
    approvers: list[User]
    decisions: list[Decision] = field(default_factory=list)

    @property
    def decided_ids(self) -> set[int]:
        """Return the ids of the people who decided on the version."""
        return {d.approver_id for d in self.decisions}

    @property
    def waiting_for(self) -> list[User]:
        """Return the approvers who have not decided yet."""
        decided = self.decided_ids
        return [person for person in self.approvers if person.id not in decided]

    def has_approver(self, user: User) -> bool:
        """Tell whether ``user`` is one of the approvers."""
        return any(person.id == user.id for person in self.approvers)


def review_state(project: Project, version: DeliverableVersion, people: list[User] | None = None) -> ReviewState:
    """Return the review state of ``version`` (``people``: the project's approvers, if already loaded)."""
    decisions = list(
        db.session.scalars(
            select(Decision).where(Decision.version_id == version.id).options(joinedload(Decision.approver)).order_by(Decision.decided_at, Decision.id)
        )
    )
    return ReviewState(rule=project.approval_rule, approvers=people if people is not None else approvers(project), decisions=decisions)


def past_included_rounds(deliverable: Deliverable, round_: int) -> bool:
    """Tell whether revision round ``round_`` goes past the rounds agreed for ``deliverable`` (a version in it needs an impact note)."""
    return round_ > deliverable.included_rounds


def can_decide(user: User, project: Project, version: DeliverableVersion | None, state: ReviewState) -> bool:
    """Tell whether ``user`` may decide on ``version`` now: an approver who has not decided on it while it waits for review."""
    return (
        state.has_approver(user)
        and version is not None
        and version.status is VersionStatus.IN_REVIEW
        and user.id not in state.decided_ids
        and not project.is_archived
    )


# --- Claiming -------------------------------------------------------------------------------


def _claim(deliverable: Deliverable) -> bool:
    """Take the deliverable's next lock version; False when someone changed it since it was read.

    The conditional UPDATE waits for a concurrent writer (row lock on PostgreSQL, the
    database lock on SQLite) and then matches nothing if that writer changed it.
    """
    return claim(deliverable, Deliverable.lock_version)


def claim_or_conflict(deliverable: Deliverable) -> None:
    """Claim the deliverable for a staff change, or raise Conflict when it changed meanwhile."""
    if not _claim(deliverable):
        raise Conflict(CHANGED_MEANWHILE)


def claim_to_decide(actor: User, deliverable: Deliverable, version: DeliverableVersion) -> None:
    """Claim the deliverable for ``actor``'s decision on ``version``, re-checking the rules each time someone else got there first.

    Raises a Conflict saying why ``actor`` cannot decide (any more), or
    :data:`CHANGED_MEANWHILE` when still contended after every attempt.
    """
    for _attempt in range(CLAIM_ATTEMPTS):
        _check_decidable(actor, deliverable, version)
        if _claim(deliverable):
            return
        # Someone decided (or submitted) at the same moment: read the new state and check again.
        db.session.refresh(deliverable)
        db.session.refresh(version)
    raise Conflict(CHANGED_MEANWHILE)


def claim_after_rereading(deliverable: Deliverable) -> bool:
    """Claim the deliverable, reading it again whenever another writer got there first; False when still contended after every attempt."""
    for _attempt in range(CLAIM_ATTEMPTS):
        if _claim(deliverable):
            return True
        db.session.refresh(deliverable)  # someone decided or submitted: read what they did, then claim again
    return False


def _last_decision(version: DeliverableVersion) -> Decision | None:
    """Return the latest decision on ``version`` (the one that settled it, once settled)."""
    return db.session.scalar(
        select(Decision)
        .where(Decision.version_id == version.id)
        .options(joinedload(Decision.approver))
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(1)
    )


def _check_decidable(actor: User, deliverable: Deliverable, version: DeliverableVersion) -> None:
    """Raise a Conflict saying why ``actor`` cannot decide on ``version`` now, if they cannot."""
    if version.status is VersionStatus.DRAFT:
        raise Conflict(_l("This version has not been submitted for review."))
    own = db.session.scalar(select(Decision).where(Decision.version_id == version.id, Decision.approver_id == actor.id))
    if own is not None:
        if own.outcome is DecisionOutcome.APPROVE:
            message = _l("You already approved version %(number)s. Decisions are permanent; add a comment if something changed.", number=version.number)
        else:
            message = _l(
                "You already requested changes on version %(number)s. Decisions are permanent; add a comment if something changed.", number=version.number
            )
        raise Conflict(message)
    if deliverable.current_number != version.number or version.status is VersionStatus.SUPERSEDED:
        raise Conflict(
            _l(
                "Version %(number)s is no longer the current one: version %(current)s was submitted since. Look at it before you decide.",
                number=version.number,
                current=deliverable.current_number,
            )
        )
    if version.status in (VersionStatus.APPROVED, VersionStatus.CHANGES_REQUESTED):
        last = _last_decision(version)
        name = last.approver.display_name if last is not None else ""
        if version.status is VersionStatus.APPROVED:
            raise Conflict(_l("%(name)s already approved version %(number)s, so your decision was not recorded.", name=name, number=version.number))
        raise Conflict(
            _l(
                "%(name)s already requested changes on version %(number)s, so your decision was not recorded. The agency will submit a new version.",
                name=name,
                number=version.number,
            )
        )
    if deliverable.status is not DeliverableStatus.IN_REVIEW:
        raise Conflict(_l("This deliverable is not waiting for a decision."))


# --- Settling -------------------------------------------------------------------------------


def approved_by(version: DeliverableVersion) -> set[int]:
    """Return the ids of the approvers who approved ``version``."""
    return set(
        db.session.scalars(select(Decision.approver_id).where(Decision.version_id == version.id, Decision.outcome == DecisionOutcome.APPROVE))
    )


def settlement(project: Project, version: DeliverableVersion, decision: Decision) -> VersionStatus | None:
    """Return how ``decision`` settles the version under the project's rule, or None while others must still decide."""
    if decision.outcome is DecisionOutcome.CHANGES_REQUESTED:
        return VersionStatus.CHANGES_REQUESTED
    if project.approval_rule is ApprovalRule.ANY:
        return VersionStatus.APPROVED
    required = {person.id for person in approvers(project)}
    return VersionStatus.APPROVED if required <= approved_by(version) else None


def settle(deliverable: Deliverable, version: DeliverableVersion, settled: VersionStatus, now: datetime) -> None:
    """Give ``version`` its final status (approved or changes requested) and its deliverable the matching one."""
    version.status = settled
    version.settled_at = now
    if settled is VersionStatus.APPROVED:
        deliverable.status = DeliverableStatus.APPROVED
        deliverable.approved_at = now
    else:
        deliverable.status = DeliverableStatus.CHANGES_REQUESTED
