"""Screenshots of each role's pages at a phone's width (390 px) and a desk's (1366 px), in zh-CN,
for docs/screenshots/ and the README's tour.

Run it against a server with the sample region and the demo accounts (`make run`):

    .venv/bin/python tools/screenshots.py [--base http://127.0.0.1:5000] [--out docs/screenshots]

It logs in through the real form as each demo user (`rehab-net users demo`), opens the pages of
that user's work, follows the first link of a list to reach a record (a referral, a plan, a
person) and saves the visible window as <name>-390.png and <name>-1366.png (the window, not the
whole page: what a person sees first, and files small enough to keep in git). Debian's Chromium
through Playwright, as the browser tests use it; it loads nothing from the internet.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from urllib.parse import urljoin

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("REHAB_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD_SUFFIX = "-demo-2026"  # rehab_net/auth/cli.py DEMO_PASSWORD_SUFFIX
WIDTHS = {390: 844, 1366: 860}  # width -> height of the window

# (user, name of the shot, path or (list path, regex of the first record link to follow))
SHOTS: list[tuple[str, str, str | tuple[str, str]]] = [
    ("clinic", "home-clinic", "/home"),
    ("clinic", "person-new", "/persons/new"),
    ("clinic", "outbox", "/outbox"),
    ("clinic", "referral-clinic", ("/outbox", r'href="(/referrals/R\d+)"')),
    ("clinic", "notifications", "/notifications"),
    ("clinic", "patients-appointments-clinic", "/booking/patients"),
    ("clinic", "certificates", "/certificates"),
    ("clinic", "certificate", ("/certificates", r'href="(/certificates/(?!new)[^"/?]+)"')),
    ("coordinator", "inbox", "/inbox"),
    ("coordinator", "referral-centre", ("/inbox", r'href="(/referrals/R\d+)"')),
    ("coordinator", "booking", "/booking"),
    ("coordinator", "booking-week", ("/booking", r'href="(/booking/facilities/[^"/]+/week)"')),
    ("coordinator", "day-list", "/booking/day"),
    ("coordinator", "practitioners", "/booking/practitioners"),
    ("coordinator", "practitioner",
     ("/booking/practitioners", r'href="(/booking/practitioners/[^"/]+)"')),
    ("coordinator", "closures", "/booking/closures"),
    ("coordinator", "waitlist", "/booking/waitlist"),
    ("coordinator", "defaulters", "/booking/defaulters"),
    ("coordinator", "catalogue-worklist", "/catalogue/worklist"),
    ("planner", "plans", "/plans"),
    ("planner", "plan", ("/plans", r'href="(/plans/\d+)"')),
    ("planner", "proposals", "/proposals"),
    ("planner", "scenarios", "/scenarios"),
    ("planner", "compare", "/compare"),
    ("planner", "reports", "/reports"),
    ("planner", "report", ("/reports", r'href="(/reports/\d{4}-Q\d)"')),
    ("planner", "report-to-date-planner", "/reports/to-date"),
    ("planner", "coverage", "/coverage"),
    ("planner", "rescue-ledger", "/coverage/rescue?worklist=1"),
    ("auditor", "audit-log", "/audit"),
    ("admin", "users", "/admin/users"),
    ("admin", "facilities", "/facilities"),
    ("admin", "facility", ("/facilities", r'href="(/facilities/CT[^"/]+)"')),
]


def _log_in(page, base: str, username: str) -> None:
    page.goto(urljoin(base, "/login"))
    page.fill("#username", username)
    page.fill("#password", username + PASSWORD_SUFFIX)
    page.press("#password", "Enter")
    page.wait_for_load_state()
    if page.url.rstrip("/").endswith("/login"):
        raise SystemExit(f"error: {username} could not log in at {base} (run `rehab-net users "
                         "demo` on a server in demo mode)")


def _target(page, base: str, where: str | tuple[str, str]) -> str | None:
    if isinstance(where, str):
        return where
    listing, pattern = where
    page.goto(urljoin(base, listing))
    found = re.search(pattern, page.content())
    return found.group(1) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--only", help="a regular expression of shot names to take")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    taken, missing = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for user in dict.fromkeys(u for u, _, _ in SHOTS):
            context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
            context.route(re.compile(r"^(?!" + re.escape(args.base) + ")"),
                          lambda route: route.abort())  # nothing from elsewhere
            page = context.new_page()
            _log_in(page, args.base, user)
            for who, name, where in SHOTS:
                if who != user or (args.only and not re.search(args.only, name)):
                    continue
                path = _target(page, args.base, where)
                if path is None:
                    missing.append(name)
                    continue
                for width, height in WIDTHS.items():
                    page.set_viewport_size({"width": width, "height": height})
                    page.goto(urljoin(args.base, path))
                    page.screenshot(path=str(args.out / f"{name}-{width}.png"))
                taken.append(f"{name} ({path})")
            context.close()
        browser.close()
    print(f"{len(taken)} pages at {' and '.join(map(str, WIDTHS))} px in {args.out}:")
    for line in taken:
        print(f"  {line}")
    if missing:
        print(f"no record to show for: {', '.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
