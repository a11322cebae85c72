"""Referrals over the JSON API: create, act, history, inbox counts, notifications, re-referral
suggestions, attachments, and the FHIR R4 view."""
from __future__ import annotations

import json

from flask import Response, g, request
from flask.views import MethodView
from sqlalchemy import func, select

from rehab_net import access, downloads
from rehab_net.api import Blueprint
from rehab_net.auth import audit
from rehab_net.clock import today
from rehab_net.db import get_session, utcnow
from rehab_net.errors import field_error
from rehab_net.listing import apply_sort, page_of
from rehab_net.network import operations as network
from rehab_net.openapi import FHIR_BUNDLE, FILE_BODY
from rehab_net.referrals import schemas as s
from rehab_net.referrals.fhir import referral_bundle
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations.attachments import (
    ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    add_attachment,
    get_attachment,
)
from rehab_net.referrals.operations.fhir_facts import fhir_facts
from rehab_net.referrals.operations.inbox import box, box_counts
from rehab_net.referrals.operations.notifications import mark_read, notifications_for
from rehab_net.referrals.operations.suggestions import suggestions
from rehab_net.referrals.operations.visibility import acting_facilities, get_referral, visible
from rehab_net.referrals.operations.workflow import create_referral, re_refer, transition
from rehab_net.schemas import PageArgs

blp = Blueprint("referrals", __name__, url_prefix="/api/v1",
                description="Two-way referrals: up to a centre and back down, until the loop "
                            "closes")

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "referrals.Referrals": {"GET": "referral.read", "POST": "referral.write"},
    "referrals.ReferralCounts": "referral.read",
    "referrals.ReferralItem": "referral.read",
    "referrals.ReferralAction": "referral.write",
    "referrals.ReferralSuggestions": "referral.read",
    "referrals.ReferralReRefer": "referral.write",
    "referrals.ReferralAttachments": "referral.write",
    "referrals.ReferralAttachmentItem": "referral.read",
    "referrals.ReferralFhir": "referral.read",
    "referrals.Notifications": "referral.read",
    "referrals.NotificationRead": "referral.read",
}


def _facilities(args) -> set[int] | None:
    """The caller's facilities, or the one asked for (which must be one of them)."""
    mine = acting_facilities(g.user)
    if not args.get("facility"):
        return mine
    facility = network.get_facility(get_session(), args["facility"])
    if mine is not None and facility.id not in mine:
        raise field_error("facility", "referral.not_your_facility", location="query")
    return {facility.id}


@blp.route("/referrals")
class Referrals(MethodView):
    @blp.arguments(s.ReferralListArgs, location="query")
    @blp.response(200, s.ReferralSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Referrals you may see; `side` + `box` give one box of an inbox (sorted by urgency,
        then priority class: children 0-6 first)."""
        session = get_session()
        now = utcnow()
        if "box" in args:
            stmt = box(session, _facilities(args), args["box"],
                       incoming=args["side"] == "incoming", now=now)
        else:
            stmt = select(Referral)
            facilities = _facilities(args)
            if "side" in args and facilities is not None:
                column = Referral.receiver_id if args["side"] == "incoming" else Referral.sender_id
                stmt = stmt.where(column.in_(facilities))
            stmt = apply_sort(stmt, args.get("sort"), {"code": Referral.code,
                              "created_at": Referral.created_at, "state": Referral.state},
                              (Referral.id.desc(),))
        stmt = stmt.where(visible(g.user))
        if args.get("state"):
            stmt = stmt.where(Referral.state == args["state"])
        if args.get("case"):
            stmt = stmt.where(Referral.case.has(code=args["case"]))
        return page_of(session, stmt, pagination_parameters)

    @blp.arguments(s.CreateReferralSchema)
    @blp.response(201, s.ReferralDetailSchema)
    def post(self, data):
        """Create a referral (a draft, or sent at once with `send: true`)."""
        session = get_session()
        send = data.pop("send")
        referral = create_referral(session, data, principal=g.user, now=utcnow(),
                                   today=today(), send=send)
        session.flush()
        return referral


@blp.route("/referrals/counts")
class ReferralCounts(MethodView):
    @blp.response(200, s.BoxCountsSchema)
    def get(self):
        """How many referrals wait in each box of your inbox and outbox; unread notifications."""
        session = get_session()
        facilities, now = acting_facilities(g.user), utcnow()
        unread = session.scalar(select(func.count()).select_from(
            notifications_for(g.user, unread_only=True).order_by(None).subquery()))
        return {"incoming": box_counts(session, facilities, incoming=True, now=now),
                "outgoing": box_counts(session, facilities, incoming=False, now=now),
                "unread_notifications": unread}


@blp.route("/referrals/<code>")
class ReferralItem(MethodView):
    @blp.response(200, s.ReferralDetailSchema)
    def get(self, code):
        """A referral with its full history (every transition: who, when, from, to, why)."""
        session = get_session()
        referral = get_referral(session, code, viewer=g.user)
        audit.record_read(session, "referral", referral.code)
        return referral


@blp.route("/referrals/<code>/<any(send, receive, accept, decline, return, start, complete, "
           "acknowledge, cancel):action>")
class ReferralAction(MethodView):
    @blp.arguments(s.ActionSchema)
    @blp.response(200, s.ReferralDetailSchema)
    def post(self, data, code, action):
        """Take a step: send, receive, accept, decline (reason_code, reason), return (reason:
        the advice), start, complete (outcome), acknowledge, cancel (reason). 409 when the referral
        is not in a state the step starts from, or someone else moved it first."""
        session = get_session()
        referral = get_referral(session, code, viewer=g.user)
        transition(session, referral, action, principal=g.user, now=utcnow(),
                   reason=data.get("reason"), reason_code=data.get("reason_code"),
                   outcome=data.get("outcome"), expected_version=data.get("version"))
        session.flush()
        return referral


@blp.route("/referrals/<code>/suggestions")
class ReferralSuggestions(MethodView):
    @blp.response(200, s.SuggestionSchema(many=True))
    def get(self, code):
        """Where else to send it: open facilities of the right tier offering the service with
        places free, nearest first."""
        session = get_session()
        return suggestions(session, get_referral(session, code, viewer=g.user), today())


@blp.route("/referrals/<code>/re-refer")
class ReferralReRefer(MethodView):
    @blp.arguments(s.ReReferSchema)
    @blp.response(201, s.ReferralDetailSchema)
    def post(self, data, code):
        """Send a declined, returned or expired referral to another facility in one step."""
        session = get_session()
        new = re_refer(session, get_referral(session, code, viewer=g.user),
                       data["receiver_code"], principal=g.user, now=utcnow(), today=today())
        session.flush()
        return new


@blp.route("/referrals/<code>/attachments")
class ReferralAttachments(MethodView):
    @blp.response(201, s.AttachmentSchema)
    def post(self, code):
        """Attach a file (multipart field `file`: PDF, PNG or JPEG, at most 5 MB)."""
        session = get_session()
        referral = get_referral(session, code, viewer=g.user)
        upload = request.files.get("file")
        if upload is None:
            raise field_error("file", "referral.file_field", "files")
        data = upload.read(MAX_ATTACHMENT_BYTES + 1)
        attachment = add_attachment(session, referral, upload.filename, data,
                                    principal=g.user)
        session.flush()
        return attachment


@blp.route("/referrals/<code>/attachments/<int:attachment_id>")
class ReferralAttachmentItem(MethodView):
    @blp.response(200, FILE_BODY, content_type="application/pdf")
    @blp.doc(responses={"200": {  # served with the content type it was stored with
        "description": "the file", "content": {t: {"schema": FILE_BODY}
                                               for t in ATTACHMENT_TYPES.values()}}})
    def get(self, code, attachment_id):
        """Download an attachment (the read is audited)."""
        session = get_session()
        referral = get_referral(session, code, viewer=g.user)
        attachment = get_attachment(session, referral, attachment_id, viewer=g.user)
        audit.record_read(session, "referral_attachment", f"{code}/{attachment_id}")
        return Response(attachment.data, mimetype=attachment.content_type, headers={
            **downloads.attachment(downloads.safe_filename(
                attachment.filename, f"attachment-{attachment.id}")),
            "X-Content-Type-Options": "nosniff"})


@blp.route("/referrals/<code>/fhir")
class ReferralFhir(MethodView):
    @blp.response(200, FHIR_BUNDLE, content_type="application/fhir+json")
    def get(self, code):
        """The referral as a FHIR R4 Bundle: ServiceRequest + Task, references to the Patient
        (by code only) and the two Organizations."""
        session = get_session()
        referral = get_referral(session, code, viewer=g.user)
        audit.record_read(session, "referral", referral.code)
        return Response(json.dumps(referral_bundle(fhir_facts(referral)),
                                    ensure_ascii=False), mimetype="application/fhir+json")


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, s.NotificationSchema(many=True))
    @blp.paginate()
    def get(self, _args, pagination_parameters):
        """Notifications of your facilities (and, for planners, your region), newest first."""
        return page_of(get_session(), notifications_for(g.user), pagination_parameters)


@blp.route("/notifications/<int:notification_id>/read")
class NotificationRead(MethodView):
    @blp.response(204)
    def post(self, notification_id):
        """Mark a notification read (for everyone at the facility)."""
        session = get_session()
        mark_read(session, g.user, notification_id, utcnow())
        session.flush()
