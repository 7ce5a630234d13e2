"""What the weekly update and the weekly expectation note are made of, known to no feature.

- :mod:`portal.weekly.facts` — a :class:`~portal.weekly.facts.Fact` (one thing the week
  says, as data), the two registries features add their fact providers to
  (``weekly_facts`` for the update, ``expectation_facts`` for the note), and how
  facts are ordered and grouped.
- :mod:`portal.weekly.slots` — when each project's update is due: its weekday and
  hour in its own time zone, one slot per ISO week.

Features depend on this package; it depends on none of them.
"""
