"""Certificates over the JSON API: list, issue, read, and the steps of their life cycle."""
from __future__ import annotations

from flask.views import MethodView

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.auth import audit
from rehab_net.auth.guard import scope
from rehab_net.certificates import operations as ops
from rehab_net.certificates import schemas as s
from rehab_net.certificates.models import Certificate
from rehab_net.clock import today
from rehab_net.db import get_session, utcnow
from rehab_net.listing import apply_sort, page_of, query_refs
from rehab_net.network import operations as network
from rehab_net.people import operations as people

blp = Blueprint("certificates", __name__, url_prefix="/api/v1",
                description="Disability certificates (残疾人证) and their life cycle")

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app. Reading is a person's record's right; the
# steps are certificate.write (clinic staff of the holder's area, docs/certificates.md).
PERMISSIONS: dict[str, access.Rule] = {
    "certificates.Certificates": {"GET": "person.read", "POST": "certificate.write"},
    "certificates.CertificateItem": "person.read",
    **{f"certificates.{step}": "certificate.write"
       for step in ("Reissue", "Renew", "MoveOut", "Transfer", "Cancel")},
}


@blp.route("/certificates")
class Certificates(MethodView):
    @blp.arguments(s.CertificateListArgs, location="query")
    @blp.response(200, s.CertificateSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List certificates (numbers masked): by state, holder's region, holder, or due for
        renewal."""
        session = get_session()
        refs = query_refs(session, args, region=network.get_region, person=lambda se, c:
                          people.get_person(se, c, scope=scope("person.read")))
        stmt = ops.list_certificates(session, state=args.get("state"), scope=scope("person.read"),
                                     renewal_due_by=today() if args.get("renewal_due") else None,
                                     **refs)
        stmt = apply_sort(stmt, args.get("sort"), {
            "code": Certificate.code, "valid_until": Certificate.valid_until,
            "issued_on": Certificate.issued_on, "state": Certificate.state}, (Certificate.code,))
        rows = page_of(session, stmt, pagination_parameters)
        audit.record_list(session, "certificate", [c.code for c in rows],
                          {k: str(v) for k, v in args.items() if v not in (None, "")})
        return rows

    @blp.arguments(s.IssueCertificateSchema)
    @blp.response(201, s.CertificateSchema)
    def post(self, data):
        """Issue a first certificate to a person (refused while they hold one in force)."""
        session = get_session()
        cert = ops.issue(session, data, today=today(), now=utcnow(),
                         scope=scope("certificate.write"))
        session.flush()
        return cert


@blp.route("/certificates/<code>")
class CertificateItem(MethodView):
    @blp.response(200, s.CertificateSchema)
    def get(self, code):
        """One certificate (the read is audited)."""
        session = get_session()
        cert = ops.get_certificate(session, code, scope=scope("person.read"))
        audit.record_read(session, "certificate", cert.code)
        return cert


def _step(code: str, data: dict, act, **fields):
    """Run one step on a certificate the caller may change (404 outside their area), dated
    ``on`` or today; the answer is the certificate in force after it (the new one after a
    reissue or renewal)."""
    session = get_session()
    cert = ops.get_certificate(session, code, scope=scope("certificate.write"))
    now_today = today()
    result = act(session, cert, on=data.get("on") or now_today, today=now_today, now=utcnow(),
                 **fields)
    session.flush()
    return result


@blp.route("/certificates/<code>/reissue")
class Reissue(MethodView):
    @blp.arguments(s.ReissueSchema)
    @blp.response(200, s.CertificateSchema)
    def post(self, data, code):
        """Reissue a lost or damaged certificate: the next suffix (B1, B2 ...), the same
        validity; the old one is cancelled (replaced)."""
        return _step(code, data, ops.reissue, reason=data.get("reason"))


@blp.route("/certificates/<code>/renew")
class Renew(MethodView):
    @blp.arguments(s.RenewSchema)
    @blp.response(200, s.CertificateSchema)
    def post(self, data, code):
        """Renew: a new certificate valid 10 years from ``on`` (from 90 days before the end of
        validity, or once expired); a re-assessment may change category or grade."""
        return _step(code, data, ops.renew, category=data.get("category"),
                     grade=data.get("grade"))


@blp.route("/certificates/<code>/move-out")
class MoveOut(MethodView):
    @blp.arguments(s.DatedStepSchema)
    @blp.response(200, s.CertificateSchema)
    def post(self, data, code):
        """The holder moved out of the region on ``on``: frozen 6 months later unless
        transferred."""
        return _step(code, data, ops.record_move_out)


@blp.route("/certificates/<code>/transfer")
class Transfer(MethodView):
    @blp.arguments(s.DatedStepSchema)
    @blp.response(200, s.CertificateSchema)
    def post(self, data, code):
        """The certificate was transferred to the holder's new place: no freeze; a frozen one is
        unfrozen."""
        return _step(code, data, ops.transfer)


@blp.route("/certificates/<code>/cancel")
class Cancel(MethodView):
    @blp.arguments(s.CancelSchema)
    @blp.response(200, s.CertificateSchema)
    def post(self, data, code):
        """Cancel a certificate in force by hand, with the reason."""
        return _step(code, data, ops.cancel, reason=data["reason"])
