"""Fill in translations without hand-editing a .po file: reads a JSON object {msgid: msgstr}
from a file (or stdin with "-") and writes the strings into a locale's catalogue, clearing the
fuzzy flag of each one set (a plural message: a list of its forms, one for zh). Messages must
exist already (run `tools/translations.sh update`).

    python tools/set_translations.py zh_Hans_CN new-strings.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUES = Path(__file__).resolve().parent.parent / "rehab_net" / "translations"


def main(locale: str, source: str) -> int:
    strings = json.load(sys.stdin if source == "-" else open(source, encoding="utf-8"))
    path = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as f:
        catalog = read_po(f, locale=locale)
    missing = [msgid for msgid in strings if catalog.get(msgid) is None]
    if missing:
        print(f"{path}: not in the catalogue (run tools/translations.sh update): {missing}",
              file=sys.stderr)
        return 1
    for msgid, msgstr in strings.items():
        message = catalog.get(msgid)
        message.string = tuple(msgstr) if isinstance(msgstr, list) else msgstr  # plural forms
        message.flags.discard("fuzzy")
    with open(path, "wb") as f:
        write_po(f, catalog, width=0, no_location=True, sort_output=True,
                 ignore_obsolete=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
