"""The codes of the certificate refusals and their English msgids (rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    "certificate.not_found": N_("There is no certificate %(code)s."),
    "certificate.exists": N_("Certificate %(code)s exists already."),
    "certificate.person_unknown": N_("%(code)s does not exist"),
    # the number (identifiers.parse_certificate does the 20 characters; these are the suffix and
    # the match with the holder)
    "certificate.number_format": N_("must be 20 characters (the resident ID, a category digit "
                                    "1-7, a grade digit 1-4), then B1, B2 ... for a reissue"),
    "certificate.suffix_format": N_("reissue suffix must be B followed by 1-99 (B1, B2 ...)"),
    "certificate.not_holder": N_("does not contain the holder's resident ID number"),
    "certificate.live_exists": N_("%(person)s holds certificate %(certificate)s already "
                                  "(%(state)s); reissue, renew or cancel it instead."),
    "certificate.live_exists_rule": N_("the holder has a certificate in force already: "
                                       "%(certificate)s"),
    "certificate.issued_future": N_("is in the future"),
    "certificate.issued_before_birth": N_("is before the holder's birth"),
    "certificate.date_before_issue": N_("is before the certificate was issued"),
    "certificate.date_future": N_("is in the future"),
    "certificate.reason_needed": N_("give the reason"),
    "certificate.moved_out_already": N_("the holder's move out on %(on)s is recorded already"),
    "certificate.no_move": N_("no move out of the region is recorded for this certificate"),
    "certificate.transfer_before_move": N_("is before the move out (%(on)s)"),
    "certificate.renew_not_due": N_("renewal opens %(on)s (%(days)s days before the end of "
                                    "validity)"),
})
