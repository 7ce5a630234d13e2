"""Play a project's story (``portal.seed.content``) through the feature services.

Every step is a real service call by the person who would do it (the account
manager, the client's approver, another member), so states, activity events and
emails come out exactly as in use.

Each thread of a story (one goal, one asset request, one deliverable…) is a
generator that yields the moment of its next step; :func:`play` runs the steps of
all threads in the order they happened, each inside ``SeedClock.at`` of its moment.
The weekly update of each active project is one more thread: it goes out at the
project's latest weekly slot, composed from what had happened by then, exactly
as the scheduler would have sent it.
"""

from __future__ import annotations

import heapq
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from PIL import Image, ImageDraw

from portal.assets import service as assets
from portal.deliverables import service as deliverables
from portal.expectations import service as expectations
from portal.extensions import db
from portal.goals import service as goals
from portal.goals.progress import expected_value
from portal.goals.terms import Terms
from portal.models import AssumptionStatus, MeasureKind, Project, ProjectStatus, User
from portal.seed.clock import SeedClock
from portal.storage import storage_for
from portal.storage.images import inspect_image
from portal.storage.uploads import ReceivedFile
from portal.timeutil import local_today
from portal.updates import service as updates
from portal.updates.dispatch import dispatch_weekly
from portal.weekly.slots import latest_slot

# Working hours in UTC that are daytime in Istanbul (UTC+3) and London alike.
MORNING, NOON, AFTERNOON = 8, 11, 14


def png(name: str, width: int = 640, height: int = 400, colour: tuple[int, int, int] = (120, 72, 40)) -> bytes:
    """Return a small real PNG: a coloured card with a lighter band, like a placeholder mock-up."""
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    light = tuple(min(255, c + 90) for c in colour)
    draw.rectangle((0, height * 2 // 3, width, height), fill=light)
    draw.rectangle((width // 12, height // 6, width // 2, height // 2), outline=(255, 255, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def store_png(name: str, prefix: str, colour: tuple[int, int, int]) -> ReceivedFile:
    """Store a generated PNG through the app's storage (with its thumbnail), as an upload would."""
    storage = storage_for(current_app)
    stored = storage.save(io.BytesIO(png(name, colour=colour)), prefix)
    info = inspect_image(storage, stored.key, "PNG", thumbnail_prefix=prefix)
    return ReceivedFile(
        stored=stored,
        name=name,
        extension="png",
        content_type="image/png",
        thumbnail=info.thumbnail,
        width=info.width,
        height=info.height,
    )


Thread = Iterator[datetime]  # yields the moment of its next step, then runs it


def play(clock: SeedClock, threads: list[Thread]) -> None:
    """Run the steps of every thread in the order of their moments (ties: in the order given)."""
    queue: list[tuple[datetime, int, Thread]] = []

    def advance(order: int, thread: Thread) -> None:
        moment = next(thread, None)
        if moment is not None:
            heapq.heappush(queue, (moment, order, thread))

    for order, thread in enumerate(threads):
        advance(order, thread)
    while queue:
        moment, order, thread = heapq.heappop(queue)
        with clock.at(moment):
            advance(order, thread)


class Story:
    """The people of one project, the clock its story is told on, and the threads of its story."""

    def __init__(self, clock: SeedClock, project: Project, spec: dict[str, Any], colour: tuple[int, int, int]) -> None:
        self.clock = clock
        self.project = project
        self.spec = spec
        self.colour = colour
        self.manager: User = project.manager
        members = list(project.members)
        self.approver: User = next(m.user for m in members if m.is_approver)
        others = [m.user for m in members if m.user.id != self.approver.id]
        self.member: User = others[0] if others else self.approver

    # --- Helpers -----------------------------------------------------------------------

    def person(self, who: str) -> User:
        """Return the manager ("agency"), the approver ("client"/"approver") or the other member ("member")."""
        return {"agency": self.manager, "client": self.approver, "approver": self.approver, "member": self.member}[who]

    def when(self, days: int, hour: int = MORNING, minute: int = 0) -> datetime:
        """Return the moment ``days`` ago at ``hour:minute`` UTC."""
        return self.clock.ago(days, hour, minute)

    def day(self, days: int) -> date:
        """Return the project's calendar day at noon UTC ``days`` ago (negative: from now on)."""
        noon = (self.clock.now - timedelta(days=days)).replace(hour=NOON, minute=0, second=0, microsecond=0)
        return local_today(self.project.timezone, noon)

    def today(self) -> date:
        """Return the project's calendar day now."""
        return local_today(self.project.timezone, self.clock.now)

    # --- Threads ---------------------------------------------------------------------------

    def threads(self) -> list[Thread]:
        """Return every thread of the story."""
        spec = self.spec
        result: list[Thread] = [self.goal(g) for g in spec["goals"]]
        assets_spec = spec["assets"]
        result += [
            self.asset_open(*assets_spec["overdue"], required=True),
            self.asset_open(*assets_spec["open"], required=False),
            self.asset_accepted(*assets_spec["accepted"]),
            self.asset_returned(*assets_spec["returned"]),
        ]
        d = spec["deliverables"]
        result += [self.deliverable_approved(*d["approved"]), self.deliverable_changed(*d["changes"]), self.deliverable_in_review(*d["review"])]
        result += [self.update(item) for item in spec["updates"]]
        result.append(self.notes(spec))
        return result

    def goal(self, spec: dict[str, Any]) -> Thread:
        """Propose a goal; if the story says so, agree it, answer assumptions, check in and comment."""
        metric = "done_when" not in spec
        yield self.when(spec["proposed"], MORNING, 30)
        terms = Terms(
            title=spec["title"],
            why=spec["why"],
            measure=MeasureKind.METRIC if metric else MeasureKind.DONE_WHEN,
            metric_name=spec.get("metric_name", ""),
            baseline=spec.get("baseline"),
            target=spec.get("target"),
            unit=spec.get("unit", ""),
            done_when=spec.get("done_when", ""),
            target_date=self.today() + timedelta(days=spec["target_in"]),
            assumptions=[text for text, _answer in spec["assumptions"]],
        )
        goal = goals.propose_goal(self.manager, self.project, terms, today=self.day(spec["proposed"]))
        if "agreed" not in spec:
            return
        yield self.when(spec["agreed"], NOON, 10)
        # The manager proposed for the agency: the approver's signature agrees the revision.
        agreed = goals.sign_revision(self.approver, goal, seen=goal.current_number).revision
        # Signing dates the agreement "today"; the clock moved the time, the date follows it.
        agreed.agreed_on = self.day(spec["agreed"])
        yield self.when(spec["agreed"], NOON, 20)
        answers = dict(spec["assumptions"])
        for assumption in goal.assumptions:
            if answers.get(assumption.text) is True and assumption.status is AssumptionStatus.OPEN:
                goals.answer_assumption(self.approver, assumption, confirmed=True)
        for days, behind, note in spec.get("check_ins", []):
            yield self.when(days, AFTERNOON)
            on = self.day(days)
            value = self.value(goal.agreed_revision, on, behind)
            goals.record_check_in(self.manager, goal, measured_on=on, value=value, note=note, today=on)
        last = spec["check_ins"][-1][0] if spec.get("check_ins") else spec["agreed"]
        for index, (who, body) in enumerate(spec.get("comments", [])):
            yield self.when(max(last, 1), AFTERNOON + 1 + index)
            goals.add_comment(self.person(who), goal, body)

    @staticmethod
    def value(revision, on: date, behind_percent: float) -> Decimal:
        """Return the actual value ``behind_percent`` % of the planned change behind the expected line on ``on``."""
        expected = expected_value(revision, on)
        planned = revision.target - revision.baseline
        value = expected - planned * Decimal(str(behind_percent)) / 100
        places = Decimal("0.1") if revision.unit == "%" else Decimal(1)
        return max(Decimal(0), value.quantize(places, rounding=ROUND_HALF_UP))

    def asset_open(self, title: str, instructions: str, kinds: list[str], created: int, due_ago: int, *, required: bool) -> Thread:
        """A request still waiting on the client (overdue when its due day has passed)."""
        yield self.when(created, MORNING, 15)
        assets.create_request(self.manager, self.project, title=title, instructions=instructions, kinds=kinds,
                              due_date=self.day(due_ago), required=required, today=self.day(created))

    def asset_accepted(self, title: str, instructions: str, kinds: list[str], created: int, uploaded: int, filename: str) -> Thread:
        """A request the client answered with a file, and the agency accepted."""
        yield self.when(created, MORNING, 25)
        request = assets.create_request(self.manager, self.project, title=title, instructions=instructions, kinds=kinds,
                                        due_date=self.day(created - 10), today=self.day(created))
        yield self.when(uploaded, NOON)
        assets.add_files(self.approver, self.project, request, [store_png(filename, assets.STORAGE_PREFIX, self.colour)])
        yield self.when(uploaded - 1, MORNING, 40)
        assets.accept(self.manager, request)

    def asset_returned(self, title: str, instructions: str, kinds: list[str], created: int, uploaded: int, filename: str, note: str) -> Thread:
        """A request the client answered, and the agency returned with a note."""
        yield self.when(created, MORNING, 30)
        request = assets.create_request(self.manager, self.project, title=title, instructions=instructions, kinds=kinds,
                                        due_date=self.today() + timedelta(days=3), today=self.day(created))
        yield self.when(uploaded, AFTERNOON)
        assets.add_files(self.approver, self.project, request, [store_png(filename, assets.STORAGE_PREFIX, (90, 90, 90))])
        yield self.when(uploaded - 1, MORNING, 50)
        assets.return_with_note(self.manager, request, note)

    def deliverable_approved(self, title, description, created, submitted, decided, filename, links, text) -> Thread:
        """Version 1 (a file and a link) approved by the client."""
        yield self.when(created, MORNING, 45)
        deliverable = deliverables.create_deliverable(self.manager, self.project, title=title, description=description,
                                                      due_date=self.day(created - 8), today=self.day(created))
        yield self.when(submitted, AFTERNOON)
        version = deliverables.start_version(self.manager, deliverable)
        deliverables.add_files(self.manager, version, [store_png(filename, deliverables.STORAGE_PREFIX, self.colour)])
        deliverables.submit_version(self.manager, version, links=links)
        yield self.when(decided, NOON, 30)
        deliverables.decide(self.approver, version, outcome="approve", text=text)

    def deliverable_changed(self, title, description, created, submitted, decided, links, change_text, reason,
                            resubmitted, change_notes, links2) -> Thread:
        """Version 1 sent back with changes requested; version 2 answers them and waits for review."""
        yield self.when(created, MORNING, 50)
        deliverable = deliverables.create_deliverable(self.manager, self.project, title=title, description=description,
                                                      due_date=self.today() + timedelta(days=6), today=self.day(created))
        yield self.when(submitted, AFTERNOON, 15)
        first = deliverables.start_version(self.manager, deliverable)
        deliverables.submit_version(self.manager, first, links=links)
        yield self.when(decided, NOON, 45)
        deliverables.decide(self.approver, first, outcome="changes_requested", reason_category=reason, text=change_text)
        yield self.when(resubmitted, AFTERNOON, 30)
        second = deliverables.start_version(self.manager, deliverable)
        deliverables.submit_version(self.manager, second, change_notes=change_notes, links=links2)

    def deliverable_in_review(self, title, description, created, submitted, notes, links) -> Thread:
        """Version 1 (links and notes) waiting for the client's review."""
        yield self.when(created, MORNING, 55)
        deliverable = deliverables.create_deliverable(self.manager, self.project, title=title, description=description,
                                                      due_date=self.today() + timedelta(days=8), today=self.day(created))
        yield self.when(submitted, AFTERNOON, 45)
        version = deliverables.start_version(self.manager, deliverable)
        deliverables.submit_version(self.manager, version, change_notes=notes, links=links)

    def update(self, item: dict[str, Any]) -> Thread:
        """A published update, then the client's answer and the comments on it."""
        days = item["days"]
        yield self.when(days, AFTERNOON, 30)
        update = updates.save_update(self.manager, self.project, {k: item.get(k, "") for k in updates.UPDATE_FIELDS}, publish=True)
        if "ack" in item:
            who, choice, comment = item["ack"]
            yield self.when(days - 1, MORNING, 5)
            updates.acknowledge(self.person(who), update, choice, comment)
        for index, (who, body) in enumerate(item.get("comments", [])):
            yield self.when(days - 1, MORNING + 1 + index, 10)
            updates.add_comment(self.person(who), update, body)

    def notes(self, spec: dict[str, Any]) -> Thread:
        """The staff's expectation note, a draft update, and the personal note for the coming weekly update."""
        yield self.when(3, NOON, 15)
        expectations.create_note(self.manager, self.project, spec["expectation"])
        yield self.when(1, AFTERNOON, 40)
        updates.save_update(self.manager, self.project, {k: spec["draft"].get(k, "") for k in updates.UPDATE_FIELDS}, publish=False)
        yield self.when(1, AFTERNOON, 50)
        updates.save_weekly_note(self.manager, self.project, spec["weekly_note"])


def weekly_thread(clock: SeedClock, project: Project) -> Thread:
    """Send the project's weekly update at its latest slot, as the scheduler would have (committing, as it does)."""
    slot = latest_slot(project, clock.now)
    if slot.at <= project.created_at:
        return
    yield slot.at
    db.session.commit()  # the dispatcher starts from a clean transaction
    report = dispatch_weekly(slot.at, project_id=project.id)
    if report.sent != 1:
        raise RuntimeError(f"the weekly update of the demo project {project.name!r} was not sent: {report}")


def tell_stories(clock: SeedClock, projects: dict[str, Project], stories: dict[str, dict], colours: dict[str, tuple[int, int, int]]) -> None:
    """Play the story of every project that has one, with the weekly update of every active project, in time order."""
    threads: list[Thread] = []
    for name, spec in stories.items():
        threads += Story(clock, projects[name], spec, colours.get(name, (110, 110, 130))).threads()
    threads += [weekly_thread(clock, p) for p in projects.values() if p.status is ProjectStatus.ACTIVE]
    play(clock, threads)
