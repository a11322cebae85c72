"""Real-browser tests of the web UI: headless Debian Chromium driven by Playwright, with axe-core
accessibility checks. Fixtures in conftest.py, assertions in helpers.py."""
