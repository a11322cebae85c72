"""A referral's files (PDF, PNG, JPEG up to 5 MB), readable by its two facilities' staff only."""
from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from rehab_net.auth.principal import Principal
from rehab_net.errors import NotFound, field_error
from rehab_net.referrals.models import Referral, ReferralAttachment
from rehab_net.referrals.operations.visibility import acting_facilities
from rehab_net.referrals.operations.workflow import actor

ATTACHMENT_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png",
                    b"\xff\xd8\xff": "image/jpeg"}
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


def add_attachment(session: Session, referral: Referral, filename: str, data: bytes, *,
                   principal: Principal | None) -> ReferralAttachment:
    if not data:
        raise field_error("file", "referral.file_empty", location="files")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise field_error("file", "referral.file_too_large", location="files")
    kind = next((t for magic, t in ATTACHMENT_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise field_error("file", "referral.file_type", location="files")
    name = (filename or "attachment").replace("/", "_").replace("\\", "_")[-200:]
    attachment = ReferralAttachment(referral=referral, filename=name, content_type=kind,
                                    size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                    data=data, created_by=actor(principal)[0])
    session.add(attachment)
    session.flush()
    return attachment


def get_attachment(session: Session, referral: Referral, attachment_id: int, *,
                   viewer: Principal | None) -> ReferralAttachment:
    """One attachment of a referral, for staff of its sending or receiving facility only: a
    clinical document is not a planner's to read (planners see the referral, not its files).
    For anyone else it does not exist (404)."""
    facilities = acting_facilities(viewer)
    found = next((a for a in referral.attachments if a.id == attachment_id), None)
    if found is None or (facilities is not None and referral.sender_id not in facilities
                         and referral.receiver_id not in facilities):
        raise NotFound("referral.attachment_not_found", code=referral.code, id=attachment_id)
    return found
