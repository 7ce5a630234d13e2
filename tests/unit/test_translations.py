"""Every string the code shows has a Turkish translation, with the same placeholders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "portal" / "translations" / "tr" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def extracted(tmp_path: Path):
    """Extract the messages from the source as `make extract-messages` does, into a scratch template."""
    template = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).with_name("pybabel")), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
         "-o", str(template), "--no-location", "--omit-header", "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with template.open("rb") as handle:
        return read_po(handle)


def test_every_message_in_the_code_is_translated_to_turkish(tmp_path):
    """A string added to a template or view without a Turkish translation fails here, naming it."""
    with CATALOG.open("rb") as handle:
        turkish = read_po(handle, locale="tr")
    assert not turkish.fuzzy, "the Turkish catalog is marked fuzzy: `pybabel compile` would skip it"
    messages = [m for m in extracted(tmp_path) if m.id]
    assert len(messages) > 1000  # the extraction itself worked
    missing = []
    for message in messages:
        found = turkish.get(message.id, context=message.context)
        strings = (found.string if isinstance(found.string, tuple) else (found.string,)) if found else ()
        if not strings or not all(strings):
            missing.append(message.id)
    assert not missing, f"{len(missing)} messages lack Turkish (run `make update-messages` and translate): {missing[:10]}"


def test_translations_keep_the_placeholders():
    """A translation that drops or renames %(name)s would fail at runtime or lose information."""
    with CATALOG.open("rb") as handle:
        turkish = read_po(handle, locale="tr")
    wrong = []
    for message in turkish:
        if not message.id or not message.string:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            if target and sorted(set(PLACEHOLDER.findall(target))) != sorted(set(PLACEHOLDER.findall(source))):
                wrong.append((source, target))
    assert not wrong, wrong[:5]
