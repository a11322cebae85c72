"""The referral pages with a test client: inbox and outbox by facility, acting through the page's
forms (CSRF token and version scraped from the page), a stale form (409), a decline without a
reason code (422, the error tied to its field), re-referral, a new referral, notifications, an
attachment download, and other facilities' referrals answering 404."""
from __future__ import annotations

import re
from datetime import date

import pytest

from rehab_net.auth.models import AuditEvent
from rehab_net.network import operations as network
from rehab_net.referrals.models import Notification, Referral, ReferralAttachment
from rehab_net.referrals.operations.attachments import MAX_ATTACHMENT_BYTES, add_attachment
from rehab_net.referrals.operations.deadline_check import check_deadlines
from rehab_net.referrals.operations.workflow import transition
from tests.factories import (
    create_case,
    create_person,
    create_user,
    log_in,
    token_for,
)
from tests.referral_world import MONDAY_9, add_child, drive, referral_network


@pytest.fixture
def net(session):
    r = referral_network(session, with_other_station=True, with_centre2=True)
    add_child(session, r)
    r["users"] = {
        "staff": create_user(session, "staff", grants=[("clinic", r["station"])]),
        "coord": create_user(session, "coord", grants=[("coordinator", r["centre"])]),
        "stranger": create_user(session, "stranger", grants=[("clinic", r["other_station"])]),
        "both": create_user(session, "both", grants=[("coordinator", r["centre"]),
                                                     ("coordinator", r["centre2"])]),
    }
    session.commit()
    return r


@pytest.fixture
def as_user(app, net):
    def client_for(who: str):
        client = app.test_client()
        log_in(client, net["users"][who])
        return client
    return client_for


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def _section(html: str, box: str) -> str:
    """The HTML of one box of an inbox or outbox page."""
    start = html.index(f'<h2 id="box-{box}">')
    end = html.find("</section>", start)
    return html[start:end]


def _state(session, code: str) -> str:
    session.expire_all()
    return session.query(Referral).filter_by(code=code).one().state


def test_the_inbox_shows_a_sent_referral_to_the_receiver_only(as_user, session, net):
    referral = drive(session, net, "sent")
    coord = as_user("coord")
    got = coord.get("/inbox")
    html = got.get_data(as_text=True)
    assert got.status_code == 200
    needs = _section(html, "needs_action")
    assert f'href="/referrals/{referral.code}"' in needs
    assert "KCHILD" in needs and "0-6岁儿童" in needs  # the case and its priority class
    assert "测试街道康复站" in needs and "已发出" in needs  # the sender (in zh) and the state
    assert referral.code not in _section(html, "recently_closed")
    assert "<caption>" in needs
    # the nav: Inbox with an unread badge that says what it counts
    assert re.search(r'<span class="badge">1<span class="visually-hidden"> 条未读通知</span>',
                     html)
    # another station sees nothing of it; the sender sees it in its outbox
    assert referral.code not in as_user("stranger").get("/inbox").get_data(as_text=True)
    outbox = as_user("staff").get("/outbox").get_data(as_text=True)
    assert referral.code in _section(outbox, "awaiting_others")
    assert referral.code not in as_user("staff").get("/inbox").get_data(as_text=True)


def test_the_inbox_marks_overdue_in_words_and_filters_by_facility(as_user, session, net, app):
    referral = drive(session, net, "sent")  # due two working days after MONDAY_9 (2026-11-16)
    html = as_user("coord").get("/inbox").get_data(as_text=True)
    # the test clock's now is real time, long after the due date
    assert "逾期" in _section(html, "overdue") and referral.code in _section(html, "overdue")
    both = as_user("both")
    html = both.get("/inbox").get_data(as_text=True)
    assert '<select id="facility" name="facility">' in html and referral.code in html
    assert referral.code not in both.get("/inbox?facility=CT02").get_data(as_text=True)
    assert referral.code in both.get("/inbox?facility=CT01").get_data(as_text=True)
    got = both.get("/inbox?facility=ST2")  # not one of theirs
    assert got.status_code == 422 and 'id="facility-error"' in got.get_data(as_text=True)
    # a user with one facility gets no filter
    assert 'id="facility"' not in as_user("coord").get("/inbox").get_data(as_text=True)


def test_acting_through_the_page_moves_the_state(as_user, session, net):
    referral = drive(session, net, "sent")
    coord = as_user("coord")
    for action, state in (("receive", "received"), ("accept", "accepted")):
        html = coord.get(f"/referrals/{referral.code}").get_data(as_text=True)
        assert f'id="act-{action}"' in html
        got = coord.post(f"/referrals/{referral.code}/act", data={
            "csrf_token": _csrf(html), "action": action, "version": _version(html)})
        assert got.status_code == 303, got.get_data(as_text=True)
        assert got.headers["Location"] == f"/referrals/{referral.code}"
        assert _state(session, referral.code) == state
    html = coord.get(f"/referrals/{referral.code}").get_data(as_text=True)
    assert 'role="status"' in html and "已接纳" in html  # the flash, announced
    assert "签收" in html and "coord" in html  # the history: the step and who took it
    # the sender's side has nothing to do now but may cancel
    staff_html = as_user("staff").get(f"/referrals/{referral.code}").get_data(as_text=True)
    assert 'id="act-cancel"' in staff_html and 'id="act-start"' not in staff_html
    # without the CSRF token nothing happens
    got = coord.post(f"/referrals/{referral.code}/act",
                     data={"action": "start", "version": _version(html)})
    assert got.status_code == 400 and _state(session, referral.code) == "accepted"


def test_a_stale_form_is_a_409_saying_what_happened(app, as_user, session, net):
    referral = drive(session, net, "received")
    coord = as_user("coord")
    html = coord.get(f"/referrals/{referral.code}").get_data(as_text=True)
    # a colleague accepts it while this page is open
    with app.app_context():
        transition(session, referral, "accept", principal=None, now=MONDAY_9)
        session.commit()
    got = coord.post(f"/referrals/{referral.code}/act", data={
        "csrf_token": _csrf(html), "action": "decline", "version": _version(html),
        "reason_code": "no_capacity", "reason": "full"})
    page = got.get_data(as_text=True)
    assert got.status_code == 409
    alert = re.search(r'<div class="conflict" role="alert"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "其他人" in alert and "“已接纳”" in alert
    assert _state(session, referral.code) == "accepted"
    session.expire_all()
    assert [e.action for e in session.get(Referral, referral.id).events].count("decline") == 0
    assert 'id="act-start"' in page  # the page shows what can be done now


def test_a_step_the_form_could_not_send_is_refused_in_the_users_language(as_user, session, net):
    referral = drive(session, net, "received")
    coord = as_user("coord")
    html = coord.get(f"/referrals/{referral.code}").get_data(as_text=True)
    unknown = coord.post(f"/referrals/{referral.code}/act", data={
        "csrf_token": _csrf(html), "action": "teleport", "version": _version(html)})
    assert unknown.status_code == 400
    assert "这不是转诊可以进行的步骤" in unknown.get_data(as_text=True)
    unversioned = coord.post(f"/referrals/{referral.code}/act", headers={"Accept-Language": "en"},
                             data={"csrf_token": _csrf(html), "action": "accept"})
    assert unversioned.status_code == 400
    assert "lacks the version of the referral" in unversioned.get_data(as_text=True)
    assert _state(session, referral.code) == "received"


def test_a_decline_without_a_reason_code_is_422_tied_to_the_field(as_user, session, net):
    referral = drive(session, net, "received")
    coord = as_user("coord")
    html = coord.get(f"/referrals/{referral.code}").get_data(as_text=True)
    got = coord.post(f"/referrals/{referral.code}/act", data={
        "csrf_token": _csrf(html), "action": "decline", "version": _version(html),
        "reason_code": "", "reason": "we are full until March"})
    page = got.get_data(as_text=True)
    assert got.status_code == 422
    select = re.search(r'<select id="decline-reason_code"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in select and "decline-reason_code-error" in select
    error = re.search(r'<p class="error" id="decline-reason_code-error">(.*?)</p>', page).group(1)
    assert "请选择拒绝转诊的原因" in error  # the domain's rule, in the page's language
    assert 'role="alert"' in page and 'href="#decline-reason_code"' in page  # the summary
    assert "we are full until March" in page  # what was typed is kept
    assert _state(session, referral.code) == "received"
    # in English, the same
    got = coord.post(f"/referrals/{referral.code}/act", headers={"Accept-Language": "en"}, data={
        "csrf_token": _csrf(html), "action": "decline", "version": _version(html)})
    assert "choose why the referral is declined" in got.get_data(as_text=True)


def test_re_refer_from_the_outbox(as_user, session, net):
    referral = drive(session, net, "declined")
    staff = as_user("staff")
    outbox = staff.get("/outbox").get_data(as_text=True)
    closed = _section(outbox, "recently_closed")
    assert referral.code in closed and "名额已满" in closed  # the decline reason, labelled
    link = re.search(r'href="(/referrals/[^"#]+#send-elsewhere)"', closed).group(1)
    assert link == f"/referrals/{referral.code}#send-elsewhere"
    html = staff.get(link.split("#")[0]).get_data(as_text=True)
    assert 'id="send-elsewhere"' in html
    assert 'value="CT02"' in html and 'value="CT01"' not in html  # CT01 declined it
    got = staff.post(f"/referrals/{referral.code}/re-refer",
                     data={"csrf_token": _csrf(html)})  # nothing chosen
    assert got.status_code == 422 and 'id="receiver_code-error"' in got.get_data(as_text=True)
    got = staff.post(f"/referrals/{referral.code}/re-refer",
                     data={"csrf_token": _csrf(html), "receiver_code": "CT02"})
    assert got.status_code == 303
    new_code = got.headers["Location"].rsplit("/", 1)[1]
    session.expire_all()
    new = session.query(Referral).filter_by(code=new_code).one()
    assert new.state == "sent" and new.replaces_id == referral.id
    assert new.receiver.code == "CT02"
    # pressed twice: refused, nothing more created
    again = staff.post(f"/referrals/{referral.code}/re-refer",
                       data={"csrf_token": _csrf(html), "receiver_code": "CT02"})
    assert again.status_code == 409 and new_code in again.get_data(as_text=True)
    assert session.query(Referral).filter_by(replaces_id=referral.id).count() == 1
    # the receiver cannot send it elsewhere
    coord_html = as_user("coord").get(f"/referrals/{referral.code}").get_data(as_text=True)
    assert 'id="send-elsewhere"' not in coord_html


def test_a_new_referral_through_the_form(as_user, session, net):
    staff = as_user("staff")
    html = staff.get("/referrals/new?case=KCHILD").get_data(as_text=True)
    assert '<optgroup label="康复中心/定点机构">' in html and 'value="CT01"' in html
    assert 'value="ST150702001"' not in html  # not to itself
    form = {"csrf_token": _csrf(html), "case_code": "KCHILD", "receiver_code": "CT01",
            "direction": "down", "urgency": "urgent", "reason": "needs an autism assessment",
            "send": "1"}
    got = staff.post("/referrals/new", data=form)  # a centre is not lower than a station
    page = got.get_data(as_text=True)
    assert got.status_code == 422
    assert re.search(r'<p class="error" id="direction-error">.*下转须转往.*</p>', page)
    assert 'name="reason"' in page and "needs an autism assessment" in page
    got = staff.post("/referrals/new", data={**form, "reason": ""})
    assert got.status_code == 422 and 'id="reason-error"' in got.get_data(as_text=True)
    got = staff.post("/referrals/new", data={**form, "direction": "up"})
    assert got.status_code == 303
    code = got.headers["Location"].rsplit("/", 1)[1]
    assert _state(session, code) == "sent"
    # a draft when "send now" is not ticked
    got = staff.post("/referrals/new", data={**form, "direction": "up", "send": ""})
    assert got.status_code == 303
    assert _state(session, got.headers["Location"].rsplit("/", 1)[1]) == "draft"
    # a case outside the user's area, never referred by or to them, is not theirs to refer
    network.create_region(session, dict(
        code="150727", parent_code="150700", level="district", kind="banner", name_zh="新右旗",
        name_en="New Barag Right Banner", lat=48.67, lon=116.82))
    network.create_region(session, dict(
        code="150727001", parent_code="150727", level="township", kind="sumu",
        name_zh="示例苏木", name_en="Shili Sumu", lat=48.5, lon=116.5))
    network.create_region(session, dict(
        code="150727001001", parent_code="150727001", level="village", kind="gacha",
        name_zh="示例嘎查", name_en="Shili Gacha", lat=48.45, lon=116.4))
    far = create_person(session, code="PFAR", home_region_code="150727001001")
    create_case(session, far, code="KFAR")
    session.commit()
    got = staff.post("/referrals/new", data={**form, "direction": "up", "case_code": "KFAR"})
    assert got.status_code == 422
    assert "没有您可以转诊的个案 KFAR" in got.get_data(as_text=True)


def test_notifications_are_listed_and_marked_read(app, as_user, session, net):
    referral = drive(session, net, "sent")
    coord = as_user("coord")
    html = coord.get("/notifications").get_data(as_text=True)
    assert "收到新的转诊" in html and f'href="/referrals/{referral.code}"' in html
    note = session.query(Notification).filter_by(facility_id=net["centre"].id).one()
    got = coord.post(f"/notifications/{note.id}/read", data={"csrf_token": _csrf(html)})
    assert got.status_code == 303 and got.headers["Location"] == "/notifications"
    session.expire_all()
    assert session.get(Notification, note.id).read_at is not None
    html = coord.get("/notifications").get_data(as_text=True)
    assert 'class="badge"' not in html and 'id="read-all"' not in html
    # another facility cannot mark it
    stranger = as_user("stranger")
    token = _csrf(stranger.get("/notifications").get_data(as_text=True))
    assert stranger.post(f"/notifications/{note.id}/read",
                         data={"csrf_token": token}).status_code == 404
    # mark all read
    with app.app_context():
        transition(session, referral, "receive", principal=None, now=MONDAY_9)
        check_deadlines(session, referral.due_at)  # overdue: the receiver is told
        session.commit()
    html = coord.get("/notifications").get_data(as_text=True)
    assert 'id="read-all"' in html and "转诊已逾期" in html
    got = coord.post("/notifications/read", data={"csrf_token": _csrf(html)})
    assert got.status_code == 303
    assert session.query(Notification).filter(Notification.facility_id == net["centre"].id,
                                              Notification.read_at.is_(None)).count() == 0


def test_notifications_say_what_happened_by_whom_and_why(as_user, session, net):
    """Not only "referral answered": accepted by whom, or declined by whom and why (issue 15)."""
    declined = drive(session, net, "declined")  # reason no_capacity, "a reason given"
    staff = as_user("staff")
    html = staff.get("/notifications").get_data(as_text=True)
    centre = net["centre"].name_zh
    assert f"{declined.code} 被{centre}拒绝：名额已满; a reason given" in html
    history = staff.get(f"/referrals/{declined.code}").get_data(as_text=True)
    assert "no_capacity" not in history and "名额已满: a reason given" in history
    accepted = drive(session, net, "accepted")
    html = staff.get("/notifications").get_data(as_text=True)
    assert f"{accepted.code} 已被{centre}接收。" in html
    # the receiver reads where it came from and what for; the API says it too, in English
    coord = as_user("coord")
    assert f"来自{net['station'].name_zh}的 {accepted.code}" in coord.get(
        "/notifications").get_data(as_text=True)
    token = token_for(session, net["users"]["staff"])
    got = staff.get("/api/v1/notifications", headers={
        "Accept-Language": "en", "Authorization": f"Bearer {token}"}).json
    said = {n["summary"] for n in got}
    assert f"{declined.code} declined by {net['centre'].name_en}: No free places; " \
           "a reason given" in said


def test_someone_elses_referral_is_404(as_user, session, net):
    referral = drive(session, net, "received")
    attachment = add_attachment(session, referral, "summary.pdf", b"%PDF-1.7 x",
                                principal=None)
    session.commit()
    stranger = as_user("stranger")
    token = _csrf(stranger.get("/inbox").get_data(as_text=True))
    assert stranger.get(f"/referrals/{referral.code}").status_code == 404
    assert stranger.get(f"/referrals/{referral.code}/attachments/{attachment.id}") \
        .status_code == 404
    got = stranger.post(f"/referrals/{referral.code}/act",
                        data={"csrf_token": token, "action": "accept", "version": "1"})
    assert got.status_code == 404 and _state(session, referral.code) == "received"
    got = stranger.post(f"/referrals/{referral.code}/re-refer",
                        data={"csrf_token": token, "receiver_code": "CT02"})
    assert got.status_code == 404


def test_an_attachment_downloads_from_the_page_and_the_read_is_audited(as_user, session, net):
    referral = drive(session, net, "sent")
    attachment = add_attachment(session, referral, "评估 summary.pdf", b"%PDF-1.7 body",
                                principal=None)
    session.commit()
    coord = as_user("coord")
    html = coord.get(f"/referrals/{referral.code}").get_data(as_text=True)
    url = f"/referrals/{referral.code}/attachments/{attachment.id}"
    assert f'href="{url}"' in html
    got = coord.get(url)
    assert got.status_code == 200 and got.data == b"%PDF-1.7 body"
    assert got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%AF%84%E4%BC%B0%20summary.pdf" in got.headers[
        "Content-Disposition"]
    assert got.headers["Cache-Control"] == "no-store"
    assert session.query(AuditEvent).filter_by(
        action="read", object_type="referral_attachment",
        object_code=f"{referral.code}/{attachment.id}").count() == 1


def test_staff_attach_a_file_from_the_page_with_the_apis_rules(as_user, session, net):
    """The sending clinic attaches a PDF through the page's form (multipart, CSRF): it is listed
    with its download link and the change is audited; a wrong type, an empty or a too large
    file, and no file at all are refused at the field, in the user's language."""
    import io

    referral = drive(session, net, "sent")
    session.commit()
    staff = as_user("staff")
    url = f"/referrals/{referral.code}"
    html = staff.get(url).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'id="file"' in html
    token = _csrf(html)

    def upload(name, body, lang="en"):
        data = {"csrf_token": token}
        if name is not None:
            data["file"] = (io.BytesIO(body), name)
        return staff.post(f"{url}/attachments", data=data, content_type="multipart/form-data",
                          headers={"Accept-Language": lang})

    got = upload("评估.pdf", b"%PDF-1.7 page upload")
    assert got.status_code == 303 and got.headers["Location"].endswith(f"{url}#attachments")
    (added,) = session.query(ReferralAttachment).filter_by(referral_id=referral.id).all()
    assert added.filename == "评估.pdf" and added.created_by == "staff"
    assert session.query(AuditEvent).filter_by(action="create",
                                               object_type="referral_attachment").count() == 1
    html = staff.get(url).get_data(as_text=True)
    assert f'href="{url}/attachments/{added.id}"' in html and "评估.pdf" in html
    for name, body, text in (("notes.txt", b"plain text", "must be a PDF, PNG or JPEG file"),
                             ("empty.pdf", b"", "is empty"),
                             ("big.pdf", b"%PDF-" + b"x" * MAX_ATTACHMENT_BYTES,
                              "is larger than 5 MB"),
                             (None, b"", "Choose a file to attach.")):
        got = upload(name, body)
        page = got.get_data(as_text=True)
        assert got.status_code == 422, name
        assert 'id="file-error"' in page and text in page and 'aria-invalid="true"' in page
    page = upload("notes.txt", b"plain text", lang="zh").get_data(as_text=True)
    assert "文件必须是 PDF、PNG 或 JPEG 文件" in page
    assert session.query(ReferralAttachment).count() == 1
    stranger = as_user("stranger")
    got = stranger.post(f"{url}/attachments", data={
        "csrf_token": _csrf(stranger.get("/inbox").get_data(as_text=True)),
        "file": (io.BytesIO(b"%PDF-1.7 x"), "x.pdf")}, content_type="multipart/form-data")
    assert got.status_code == 404


def test_a_planner_sees_the_list_of_files_but_no_form_and_no_links(app, session, net):
    referral = drive(session, net, "sent")
    add_attachment(session, referral, "summary.pdf", b"%PDF-1.7 x", principal=None)
    planner = create_user(session, "fplanner", grants=[("planner", net["district"])])
    session.commit()
    client = app.test_client()
    log_in(client, planner)
    html = client.get(f"/referrals/{referral.code}").get_data(as_text=True)
    assert "summary.pdf" in html and "/attachments/" not in html and 'id="file"' not in html


def test_pages_need_the_referral_permissions(app, session, net):
    """A planner reads referrals of the district but acts on none; an admin has no inbox."""
    referral = drive(session, net, "sent")
    planner = create_user(session, "dplanner", grants=[("planner", net["district"])])
    admin = create_user(session, "dadmin", grants=[("admin", net["district"])])
    session.commit()
    client = app.test_client()
    log_in(client, planner)
    html = client.get(f"/referrals/{referral.code}").get_data(as_text=True)
    assert referral.code in html and 'id="act-' not in html
    assert client.get("/referrals/new").status_code == 403
    assert client.get("/inbox").status_code == 200
    client = app.test_client()
    log_in(client, admin)
    assert client.get("/inbox").status_code == 403
    assert 'href="/inbox"' not in client.get("/facilities").get_data(as_text=True)


def test_the_centre_refers_back_down_to_the_village_clinic_from_the_page(as_user, session, net):
    """The link on a completed up-referral opens the form with the clinic chosen, the
    category's follow-up service asked for, and only lower tiers offered; one submit sends it."""
    network.create_service(session, dict(
        category="autism", kind="follow_up", name_zh="孤独症随访", name_en="Autism follow-up",
        tiers=["station", "clinic"], home_ok=True, duration_minutes=30))
    clinic = network.create_facility(session, dict(
        code="CL00001", name_zh="测试社区卫生室", name_en="Ceshi clinic", tier="clinic",
        region_code="150702001001", lat=49.21, lon=119.7, ownership="public",
        designated=False, status="open"))
    network.set_capacity(session, clinic, dict(
        service_code="autism_follow_up", effective_from=date(2026, 1, 1), weekly_intake=1,
        concurrent_places=5))
    up = drive(session, net, "completed")
    coord = as_user("coord")
    link = (f"/referrals/new?case=KCHILD&answers={up.code}&direction=down&receiver=CL00001")
    html = coord.get(link).get_data(as_text=True)
    assert re.search(r'<option value="CL00001"[^>]*selected', html)
    assert re.search(r'<option value="autism_follow_up"[^>]*selected', html)
    assert 'value="CT02"' not in html  # a centre is no lower tier than the centre
    got = coord.post("/referrals/new", data={
        "csrf_token": _csrf(html), "case_code": "KCHILD", "direction": "down",
        "receiver_code": "CL00001", "service_code": "autism_follow_up", "urgency": "urgent",
        "reason": "continue at home", "answers_code": up.code,
        "home_programme": "daily exercises with the family", "send": "1"})
    assert got.status_code == 303, got.get_data(as_text=True)
    down = session.query(Referral).filter_by(direction="down").one()
    assert (down.receiver.code, down.service.code, down.state) == (
        "CL00001", "autism_follow_up", "sent")
    # changing the service re-offers the receivers without creating anything: the station
    # trains, a centre is not below the centre
    again = coord.post("/referrals/new", data={
        "csrf_token": _csrf(html), "case_code": "KCHILD", "direction": "down",
        "service_code": "autism_training", "refresh": "service"})
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and 'value="ST150702001"' in page
    assert 'value="CT02"' not in page and 'value="CL00001"' not in page
    assert session.query(Referral).filter_by(direction="down").count() == 1
