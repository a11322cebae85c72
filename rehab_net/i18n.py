"""Languages: zh-CN first, English second, with Flask-Babel.

The choice for a request is, in order: the language saved in the session by the switch
(`POST /language`), else the best match of the browser's Accept-Language among zh and en, else
zh. Nothing about the language goes into URLs.

The Chinese catalogue lives under translations/zh_Hans_CN: Babel parses "zh_CN" as zh_Hans_CN
(it adds the likely script), and gettext then looks for zh_Hans_CN or zh, never zh_CN. So the
selector returns the same "zh_Hans_CN" the catalogue was made with (`pybabel init -l zh_Hans_CN`).

Times are stored in UTC and shown in the configured zone (BABEL_DEFAULT_TIMEZONE, from
clock.zone())."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from flask import Blueprint, Flask, g, has_request_context, redirect, request, session
from flask_babel import Babel, format_date, format_datetime, get_locale, gettext, refresh
from flask_babel import lazy_gettext as _l

from rehab_net import access
from rehab_net.clock import zone
from rehab_net.errors import page_abort
from rehab_net.redirects import safe_redirect_target

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# Our language code -> the Babel locale whose catalogue exists -> the value of <html lang>.
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
HTML_LANG = {"zh": "zh-CN", "en": "en"}
DEFAULT_LANGUAGE = "zh"
DATETIME_FORMAT = "yyyy-MM-dd HH:mm"  # Babel (CLDR) patterns; the same in both languages
DATE_FORMAT = "yyyy-MM-dd"

# The titles of the error pages; the details stay as the code wrote them (English).
HTTP_TITLES = {
    400: _l("Bad request"), 403: _l("Forbidden"), 404: _l("Not found"),
    405: _l("Method not allowed"), 409: _l("Conflict"), 412: _l("Precondition failed"),
    413: _l("Request too large"), 422: _l("Unprocessable content"),
    428: _l("Precondition required"), 429: _l("Too many requests"),
    500: _l("Internal server error"), 503: _l("Service unavailable"),
}

# What an error page says under its title, in the user's words (werkzeug's own descriptions and
# the developers' abort() texts are English: they go to the problem+json of the API only).
HTTP_DESCRIPTIONS = {
    400: _l("The request could not be understood. Go back, reload the page and try again."),
    403: _l("Your roles do not allow this page. If you need it, ask your administrator."),
    404: _l("There is no such page, or it is not in your area."),
    405: _l("This address does not take that kind of request."),
    409: _l("Someone else changed this in the meantime. Reload the page and try again."),
    412: _l("The record changed since you read it. Reload it and try again."),
    413: _l("What you sent is too large."),
    422: _l("Some of what you entered cannot be used. Correct it and send it again."),
    428: _l("Reload the record before you change it."),
    429: _l("Too many attempts. Wait a moment, then try again."),
    500: _l("Something went wrong on our side and what you sent was not saved. Try again, and "
            "tell your administrator if it happens again."),
    503: _l("The service is not available just now. Try again in a few minutes."),
}

bp = Blueprint("i18n", __name__)
babel = Babel()


def current_language() -> str:
    """'zh' or 'en' for this request: the session's choice, else Accept-Language, else zh."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    g.i18n_negotiated = True  # the answer depends on the header: say so in Vary
    return request.accept_languages.best_match(tuple(LOCALES)) or DEFAULT_LANGUAGE


def select_locale() -> str:
    return LOCALES[current_language()]


def language() -> str:
    """The language of the locale in force ('zh' or 'en'), also under force_locale()."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def local_datetime(value: datetime | None, fmt: str = DATETIME_FORMAT) -> str:
    """A UTC datetime as local time (the configured zone), to the minute: 2026-11-23 20:15."""
    if value is None:
        return "—"
    return format_datetime(value, fmt)


def local_date(value: date | datetime | None, fmt: str = DATE_FORMAT) -> str:
    """A date; a datetime is first converted to local time, so late UTC evenings roll over."""
    if value is None:
        return "—"
    return format_date(value, fmt)


def local_name(obj, field: str = "name") -> str:
    """An object's (or a mapping's) name_zh or name_en, in the language of the page."""
    first, second = ("en", "zh") if language() == "en" else ("zh", "en")
    get = obj.get if isinstance(obj, Mapping) else lambda k: getattr(obj, k, None)
    return get(f"{field}_{first}") or get(f"{field}_{second}") or ""  # else the other one


def http_title(status: int, fallback: str = "") -> str:
    title = HTTP_TITLES.get(status)
    return str(title) if title is not None else fallback


def http_description(status: int) -> str:
    text = HTTP_DESCRIPTIONS.get(status)
    return str(text) if text is not None else ""


@bp.post("/language")
def switch_language():
    lang = request.form.get("lang", "")
    if lang not in LOCALES:
        page_abort(400, gettext("Choose 中文 or English."))
    session["lang"] = lang
    return redirect(safe_redirect_target(request.form.get("next"), "/"), code=303)


def init_app(app: Flask) -> None:
    from rehab_net.vocab import label

    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALES[DEFAULT_LANGUAGE])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", zone(app).key)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    access.declare(app, {"i18n.switch_language": access.PUBLIC})  # usable before logging in

    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals.update(label=label, local_name=local_name, http_title=http_title,
                                  http_description=http_description)
    # CSRFProtect installs the same global; this keeps the forms rendering without it.
    from flask_wtf.csrf import generate_csrf

    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)

    @app.before_request
    def _fresh_locale():
        # Flask-Babel caches the locale on g; a request inside an outer app context (tests,
        # scripts) would otherwise inherit the previous request's language.
        refresh()
        g.pop("i18n_negotiated", None)

    @app.context_processor
    def _language():
        lang = language()
        return {"html_lang": HTML_LANG[lang], "lang": lang}

    @app.after_request
    def _vary(resp):
        if g.get("i18n_negotiated"):
            resp.vary.add("Accept-Language")
        return resp
