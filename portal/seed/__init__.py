"""Demo data for `make run`: a small agency with real-looking clients, projects and their history.

The agency, its clients and their projects are defined here; what happened on the
three main projects over the past weeks (goals, asset requests, deliverables,
updates, expectation notes) is told in ``portal.seed.content`` and played through
the feature services by ``portal.seed.stories``, dated with ``portal.seed.clock``.
The weekly update of every active project went out at its latest slot, as the scheduler sends it.
The emails all this queued are marked sent: the demo starts with a clean outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple, TypedDict

from sqlalchemy import func, select, update

from portal import activity
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import (
    ApprovalRule,
    Client,
    ClientDecisionMaker,
    EmailStatus,
    OutboxEmail,
    PreferredChannel,
    Project,
    ProjectMember,
    ProjectStatus,
    Role,
    User,
)
from portal.seed.clock import SeedClock

DEMO_PASSWORD = "rapport-demo-2026"  # noqa: S105 - public on purpose: the demo banner and README show it


class ClientSpec(TypedDict):
    """A demo client organisation, its people and its projects."""

    name: str
    language: str
    timezone: str
    preferred_channel: PreferredChannel
    decision_makers: str
    sensitivities: str
    internal_notes: str
    people: list[tuple[str, str, bool]]  # name, email, is an approver
    deciders: list[str]  # the emails of the people above linked as decision makers (the text names the rest)
    manager: str  # the account manager's email
    projects: list[tuple[str, str, ProjectStatus, int, int]]  # name, description, status, start and end in days from today


STAFF = [
    ("Elif Yılmaz", "elif@studio-meridyen.example", Role.ADMIN, "tr", "Europe/Istanbul"),
    ("Can Demir", "can@studio-meridyen.example", Role.MANAGER, "tr", "Europe/Istanbul"),
    ("Sarah Collins", "sarah@studio-meridyen.example", Role.MANAGER, "en", "Europe/London"),
]

CLIENTS: list[ClientSpec] = [
    {
        "name": "Anadolu Kahve Kavurma",
        "language": "tr",
        "timezone": "Europe/Istanbul",
        "preferred_channel": PreferredChannel.PHONE,
        "decision_makers": "Ayşe Kaya — kurucu ortak, son kararı verir\nMert Şahin — pazarlama, günlük muhatap",
        "sensitivities": "Geçen yılki ajansla yaşanan gecikme nedeniyle teslim tarihleri konusunda hassaslar.",
        "internal_notes": "Bütçe onayı çeyrek başlarında. Cuma öğleden sonra toplantı istemiyorlar.",
        "people": [("Ayşe Kaya", "ayse@anadolukahve.example", True), ("Mert Şahin", "mert@anadolukahve.example", False)],
        "deciders": ["ayse@anadolukahve.example"],
        "manager": "can@studio-meridyen.example",
        "projects": [
            ("E-ticaret sitesi yenileme", "Shopify'dan özel mağazaya geçiş, abonelik paketleri ve yeni ödeme akışı.", ProjectStatus.ACTIVE, -60, 90),
            ("Ramazan kampanyası", "Sosyal medya ve e-posta kampanyası: kreatifler, içerik takvimi, raporlama.", ProjectStatus.PLANNED, 20, 75),
            ("Marka kimliği güncellemesi", "Logo sadeleştirme, ambalaj sistemi ve marka kitabı.", ProjectStatus.COMPLETED, -200, -30),
        ],
    },
    {
        "name": "Northwind Outdoor Co.",
        "language": "en",
        "timezone": "Europe/London",
        "preferred_channel": PreferredChannel.EMAIL,
        "decision_makers": "Tom Barker — Head of Digital, signs off budgets\nPriya Nair — Brand Manager, approves creative",
        "sensitivities": "Strict brand guidelines; legal must review any claim about sustainability.",
        "internal_notes": "Renewal conversation due in March. Tom prefers short written updates.",
        "people": [("Tom Barker", "tom@northwind.example", True), ("Priya Nair", "priya@northwind.example", True)],
        "deciders": ["tom@northwind.example", "priya@northwind.example"],
        "manager": "sarah@studio-meridyen.example",
        "projects": [
            ("Spring catalogue microsite", "An interactive catalogue for the spring range with a store locator.", ProjectStatus.ACTIVE, -30, 45),
            ("Trail app onboarding", "Redesign of the mobile app's first-run experience to lift activation.", ProjectStatus.ACTIVE, -14, 60),
        ],
    },
    {
        "name": "Lale Mimarlık",
        "language": "tr",
        "timezone": "Europe/Istanbul",
        "preferred_channel": PreferredChannel.MEETING,
        "decision_makers": "Deniz Aksoy — kurucu mimar",
        "sensitivities": "Portfolyo görsellerinin telif hakları konusunda dikkatli olunmalı.",
        "internal_notes": "",
        "people": [("Deniz Aksoy", "deniz@lalemimarlik.example", True)],
        "deciders": ["deniz@lalemimarlik.example"],
        "manager": "can@studio-meridyen.example",
        "projects": [
            ("Portfolyo sitesi", "Projelerin filtrelenebildiği, iki dilli portfolyo sitesi.", ProjectStatus.ACTIVE, -21, 50),
            ("Yarışma sunumu", "Kültür merkezi yarışması için sunum paftaları ve animasyon.", ProjectStatus.ON_HOLD, -10, 30),
        ],
    },
]


class DemoLogin(NamedTuple):
    """One demo login as the banner and the README list it."""

    role: str
    email: str
    password: str
    language: str  # the user's interface language: the portal switches to it after login
    approver: bool = False  # a client who may approve deliverables and sign goals


LANGUAGE_LABELS = {"en": "English", "tr": "Turkish"}


def demo_logins() -> list[DemoLogin]:
    """Return every demo login (role, email, password, language, approver), for the banner and README."""
    logins = [
        DemoLogin("Agency admin" if role is Role.ADMIN else "Account manager", email, DEMO_PASSWORD, language)
        for _, email, role, language, _ in STAFF
    ]
    for client in CLIENTS:
        for _, email, approver in client["people"]:
            logins.append(DemoLogin(f"Client, {client['name']}", email, DEMO_PASSWORD, client["language"], approver))
    return logins


# Each main project (the first of each client) has a story in portal.seed.content; a colour for its images.
COLOURS = {
    "E-ticaret sitesi yenileme": (111, 66, 38),  # roasted coffee
    "Spring catalogue microsite": (46, 94, 70),  # moss green
    "Portfolyo sitesi": (176, 58, 72),  # tulip red
}
AGENCY_SINCE_DAYS = 240  # how long ago the staff and clients joined the portal


def seed_demo(*, only_if_empty: bool = True, now: datetime | None = None) -> bool:
    """Load the demo agency and its recent history; return False (doing nothing) when users exist and ``only_if_empty``.

    ``now`` is the moment the demo is seeded at (default: the real time); the story
    happened over the weeks before it.
    """
    if only_if_empty and db.session.scalar(select(func.count()).select_from(User)):
        return False
    from portal.seed.content import STORIES
    from portal.seed.stories import tell_stories

    # Only what the story queues is marked sent below: an email already waiting is real and must go out.
    emails_before = db.session.scalar(select(func.coalesce(func.max(OutboxEmail.id), 0)))
    clock = SeedClock(now)
    clock.start()
    try:
        projects = _load_agency(clock)
        # Goals, asset requests, deliverables, updates and notes of the main projects, and the
        # weekly update of every active project at its latest slot (as the scheduler sends it,
        # so it has nothing due until the next slot), in the order they happened.
        tell_stories(clock, projects, STORIES, COLOURS)
    finally:
        clock.stop()
    # Nobody in the demo should get a pile of emails on the first `make run`: what the story
    # queued is recorded as already sent (the admin's email log shows it as history).
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status == EmailStatus.QUEUED, OutboxEmail.id > emails_before)
        .values(status=EmailStatus.SENT, sent_at=OutboxEmail.created_at, attempts=1)
    )
    db.session.commit()
    return True


def _load_agency(clock: SeedClock) -> dict[str, Project]:
    """Add the staff, the clients, their people and projects (dated to when they began); return projects by name."""
    password_hash = hash_password(DEMO_PASSWORD)
    today = clock.now.date()
    staff: dict[str, User] = {}
    with clock.at(clock.ago(AGENCY_SINCE_DAYS)):
        for name, email, role, language, zone in STAFF:
            user = User(name=name, email=email, role=role, language=language, timezone=zone, password_hash=password_hash)
            db.session.add(user)
            staff[email] = user
    admin = staff[STAFF[0][1]]
    projects: dict[str, Project] = {}
    for number, spec in enumerate(CLIENTS):
        with clock.at(clock.ago(AGENCY_SINCE_DAYS - 10 - 20 * number)):
            client = Client(
                name=spec["name"],
                language=spec["language"],
                timezone=spec["timezone"],
                preferred_channel=spec["preferred_channel"],
                decision_makers=spec["decision_makers"],
                sensitivities=spec["sensitivities"],
                internal_notes=spec["internal_notes"],
            )
            db.session.add(client)
            people = []
            for name, email, approver in spec["people"]:
                user = User(
                    name=name,
                    email=email,
                    role=Role.CLIENT,
                    client=client,
                    language=spec["language"],
                    timezone=spec["timezone"],
                    password_hash=password_hash,
                )
                db.session.add(user)
                people.append((user, approver))
                if email in spec["deciders"]:
                    db.session.add(ClientDecisionMaker(client=client, user=user))
        for index, (title, description, status, start, end) in enumerate(spec["projects"]):
            # A project is set up a few days before it starts (at the latest, a few days ago).
            created = clock.ago(max(-start + 3, 5 + index), 7, 30)
            with clock.at(created):
                project = Project(
                    client=client,
                    manager=staff[spec["manager"]],
                    name=title,
                    description=description,
                    status=status,
                    start_date=today + timedelta(days=start),
                    target_date=today + timedelta(days=end),
                    timezone=spec["timezone"],
                    weekly_weekday=(index * 2) % 5,
                    weekly_hour=9 + index,
                    approval_rule=ApprovalRule.ALL if len(people) > 1 and index == 1 else ApprovalRule.ANY,
                    included_rounds=2,
                )
                db.session.add(project)
                for user, approver in people:
                    db.session.add(ProjectMember(project=project, user=user, is_approver=approver))
                db.session.flush()
                activity.record(admin, "project.created", project, project=project, internal=True)
            projects[title] = project
    return projects
