"""What a goal says: its terms, the limits of what people write, and how two revisions differ.

A revision's terms are checked here (:func:`check_terms`) before the service stores
them; the history page and the emails read the differences between revisions
(:func:`changes`, :func:`assumption_changes`, :func:`assumption_diff`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.errors import DomainError
from portal.goals.units import MAX_ABS_VALUE, is_unit
from portal.models import Goal, GoalAssumption, GoalRevision, MeasureKind

MAX_ASSUMPTIONS = 20
MAX_ASSUMPTION_LENGTH = 500
MAX_TEXT = 4000
MAX_TITLE = 200
MAX_METRIC_NAME = 120

# The fields of a revision that make up the terms, in the order the history shows them.
TERM_FIELDS = ("title", "why", "measure", "metric_name", "baseline", "target", "unit", "done_when", "target_date")


@dataclass
class Terms:
    """What a revision proposes; built from a form, checked here before it is stored."""

    title: str
    target_date: date | None
    measure: MeasureKind = MeasureKind.METRIC
    why: str = ""
    metric_name: str = ""
    baseline: Decimal | None = None
    target: Decimal | None = None
    unit: str = ""
    done_when: str = ""
    assumptions: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, revision: GoalRevision, assumptions: list[str]) -> Terms:
        """Return the terms of a stored ``revision`` with its ``assumptions``."""
        return cls(**{name: getattr(revision, name) for name in TERM_FIELDS}, assumptions=list(assumptions))

    def normalised(self) -> Terms:
        """Return a copy with text trimmed and the fields of the other kind of measure emptied."""
        metric = self.measure is MeasureKind.METRIC
        seen: set[str] = set()
        assumptions = []
        for line in self.assumptions:
            text = " ".join(line.split())
            if text and text.casefold() not in seen:
                seen.add(text.casefold())
                assumptions.append(text)
        return Terms(
            title=" ".join(self.title.split()),
            target_date=self.target_date,
            measure=self.measure,
            why=self.why.strip(),
            metric_name=" ".join(self.metric_name.split()) if metric else "",
            baseline=self.baseline if metric else None,
            target=self.target if metric else None,
            unit=(self.unit or "").strip() if metric else "",
            done_when=self.done_when.strip() if not metric else "",
            assumptions=assumptions,
        )

    def same_as(self, other: Terms) -> bool:
        """Tell whether both say the same thing (numbers compared by value)."""
        a, b = self.normalised(), other.normalised()
        return all(getattr(a, n) == getattr(b, n) for n in TERM_FIELDS) and a.assumptions == b.assumptions


def check_terms(terms: Terms, today: date) -> Terms:
    """Return the normalised terms, or raise a DomainError naming the first field that is wrong."""
    t = terms.normalised()
    if not t.title:
        raise DomainError(_l("Give the goal a title."), field="title")
    if len(t.title) > MAX_TITLE:
        raise DomainError(_l("Keep the title under %(num)d characters.", num=MAX_TITLE), field="title")
    if len(t.why) > MAX_TEXT:
        raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field="why")
    if t.measure is MeasureKind.METRIC:
        if not t.metric_name:
            raise DomainError(_l("Name the metric, for example “Online orders per month”."), field="metric_name")
        if len(t.metric_name) > MAX_METRIC_NAME:
            raise DomainError(_l("Keep the metric's name under %(num)d characters.", num=MAX_METRIC_NAME), field="metric_name")
        for name in ("baseline", "target"):
            value = getattr(t, name)
            if value is None:
                raise DomainError(_l("Enter a number."), field=name)
            if not value.is_finite() or abs(value) >= MAX_ABS_VALUE:
                raise DomainError(_l("Enter a number below one trillion."), field=name)
        if t.baseline == t.target:
            raise DomainError(
                _l("The target must differ from the baseline. To keep a level, use a “done when” statement."), field="target"
            )
        if not is_unit(t.unit):
            raise DomainError(_l("Choose a unit from the list."), field="unit")
    else:
        if not t.done_when:
            raise DomainError(_l("Say when the goal counts as done."), field="done_when")
        if len(t.done_when) > MAX_TEXT:
            raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field="done_when")
    if t.target_date is None:
        raise DomainError(_l("Enter the target date."), field="target_date")
    if t.target_date < today:
        raise DomainError(_l("The target date cannot be in the past."), field="target_date")
    if len(t.assumptions) > MAX_ASSUMPTIONS:
        raise DomainError(_l("Write at most %(num)d assumptions.", num=MAX_ASSUMPTIONS), field="assumptions")
    if any(len(a) > MAX_ASSUMPTION_LENGTH for a in t.assumptions):
        raise DomainError(
            _l("Keep each assumption under %(num)d characters.", num=MAX_ASSUMPTION_LENGTH), field="assumptions"
        )
    return t


# --- How revisions differ ------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One term that differs between two revisions."""

    name: str
    old: Any
    new: Any


def changes(previous: GoalRevision | None, revision: GoalRevision) -> list[FieldChange]:
    """Return the terms ``revision`` changed compared with ``previous`` (all of them for the first)."""
    result = []
    for name in TERM_FIELDS:
        new = getattr(revision, name)
        old = getattr(previous, name) if previous is not None else None
        if previous is None:
            if new not in (None, ""):
                result.append(FieldChange(name, None, new))
        elif old != new:
            result.append(FieldChange(name, old, new))
    return result


def assumption_changes(goal: Goal, number: int) -> tuple[list[GoalAssumption], list[GoalAssumption]]:
    """Return the assumptions revision ``number`` added and the ones it withdrew."""
    added = [a for a in goal.assumptions if a.added_in == number]
    removed = [a for a in goal.assumptions if a.removed_in == number]
    return added, removed


def assumption_diff(goal: Goal, old: int, new: int) -> tuple[list[GoalAssumption], list[GoalAssumption]]:
    """Return the assumptions revision ``new`` has that ``old`` had not, and the reverse."""
    added = [a for a in goal.assumptions if a.in_revision(new) and not a.in_revision(old)]
    removed = [a for a in goal.assumptions if a.in_revision(old) and not a.in_revision(new)]
    return added, removed
