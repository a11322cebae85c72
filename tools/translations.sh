#!/usr/bin/env bash
# The translation catalogues of rehab-net (Flask-Babel, domain "messages").
#
#   bash tools/translations.sh extract   # templates + Python -> rehab_net/translations/messages.pot
#   bash tools/translations.sh update    # extract, then merge the .pot into the zh and en .po files
#   bash tools/translations.sh compile   # .po -> .mo (committed, so `pip install` needs no step)
#   bash tools/translations.sh check     # exit 1 listing zh msgids whose msgstr is empty or fuzzy
#
# Chinese lives under zh_Hans_CN, not zh_CN: Babel parses zh_CN as zh_Hans_CN and gettext would
# never look in zh_CN (see rehab_net/i18n.py). A new language: pybabel init -l <locale> ...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR=rehab_net/translations
POT=$DIR/messages.pot
LOCALES=(zh_Hans_CN en)
ZH_PO=$DIR/zh_Hans_CN/LC_MESSAGES/messages.po

if [[ -n ${PYBABEL:-} ]]; then  # given from outside, e.g. PYBABEL=... PYTHON=... bash tools/...
  PYTHON=${PYTHON:-python3}
elif [[ -x .venv/bin/pybabel ]]; then
  PYBABEL=.venv/bin/pybabel
  PYTHON=.venv/bin/python
elif command -v pybabel >/dev/null 2>&1; then
  PYBABEL=pybabel
  PYTHON=python3
else
  echo "pybabel not found: install the project (make run / pip install -e .) first" >&2
  exit 2
fi

extract() {  # [output file, default the .pot]
  mkdir -p "$DIR"
  # No source locations, sorted: the files change when a message does, not when code moves.
  "$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext -k N_ -k _lp:1c,2 -k lazy_pgettext:1c,2 \
    --no-location --sort-output --no-wrap \
    --project rehab-net --msgid-bugs-address "" \
    -o "${1:-$POT}" .
}

update() {
  extract
  local loc
  for loc in "${LOCALES[@]}"; do
    if [[ -f $DIR/$loc/LC_MESSAGES/messages.po ]]; then
      "$PYBABEL" -q update -i "$POT" -d "$DIR" -l "$loc" --no-wrap --ignore-obsolete
    else
      "$PYBABEL" -q init -i "$POT" -d "$DIR" -l "$loc" --no-wrap
      # init marks the whole catalogue fuzzy, and compile skips fuzzy catalogues.
      sed -i '/^#, fuzzy$/d' "$DIR/$loc/LC_MESSAGES/messages.po"
    fi
  done
}

compile() {
  # pybabel compile writes no timestamps, so the same .po always gives the same .mo.
  # --use-fuzzy is deliberately absent: a fuzzy zh entry shows English until it is checked.
  local loc
  for loc in "${LOCALES[@]}"; do
    "$PYBABEL" -q compile -d "$DIR" -l "$loc"
  done
}

check() {
  # Also extract afresh: a message in the code that never reached the catalogue is missing too.
  local fresh
  fresh=$(mktemp)
  trap "rm -f '$fresh'" EXIT  # expanded now: the local is gone at exit
  extract "$fresh"
  "$PYTHON" - "$ZH_PO" "$fresh" <<'PY'
import sys

from babel.messages.pofile import read_po

path, fresh = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    catalog = read_po(f)
with open(fresh, "rb") as f:
    template = read_po(f)
bad = []
for message in template:
    if message.id and catalog.get(message.id, context=message.context) is None:
        msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
        bad.append(("missing (run: bash tools/translations.sh update)", msgid))
for message in catalog:
    if not message.id:
        continue  # the header
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    if message.fuzzy or not all(strings):
        msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
        bad.append(("fuzzy" if message.fuzzy else "empty", msgid))
for message, errors in catalog.check():  # e.g. placeholders that differ from the msgid's
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    bad.append((f"invalid ({'; '.join(map(str, errors))})", msgid))
for kind, msgid in bad:
    print(f"{path}: {kind}: {msgid!r}")
if bad:
    print(f"{len(bad)} zh message(s) need a translation", file=sys.stderr)
    sys.exit(1)
print(f"{path}: complete ({sum(1 for m in catalog if m.id)} messages)")
PY
}

case "${1:-}" in
  extract) extract ;;
  update) update ;;
  compile) compile ;;
  check) check ;;
  *) echo "usage: $0 extract|update|compile|check" >&2; exit 2 ;;
esac
