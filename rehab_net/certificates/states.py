"""The certificate life cycle in one table (rehab_net.states is the idiom; docs/certificates.md).

valid -> frozen when the holder moved out of the region and the certificate was not transferred
within 6 months; frozen -> cancelled after a further year; valid or frozen -> expired at the end of
the 10-year validity. Those three are the daily job's (jobs.py, ``side="system"``). A transfer
(the holder's certificate taken in by their new place) unfreezes a frozen one; a reissue or a
renewal replaces a valid one (an expired one stays expired; a frozen one is transferred
first); staff cancel one by hand, with a reason."""
from __future__ import annotations

from rehab_net.states import Action, Machine

STATES = ("valid", "frozen", "cancelled", "expired")

CERTIFICATE = Machine("certificate", STATES, (
    # by hand (the certificate page, POST /certificates/{code}/cancel)
    Action("cancel", ("valid", "frozen"), "cancelled", past="cancelled", needs_reason=True),
    # by the operations: a transfer unfreezes, a reissue or renewal replaces the old one
    Action("unfreeze", ("frozen",), "valid", "system", past="unfrozen"),
    Action("replace", ("valid",), "cancelled", "system", past="replaced"),
    # by the daily job (jobs.py): the date rules
    Action("freeze", ("valid",), "frozen", "system", past="frozen"),
    Action("lapse", ("frozen",), "cancelled", "system", past="cancelled"),
    Action("expire", ("valid", "frozen"), "expired", "system", past="expired"),
), column="state")
CERTIFICATE_STATES = CERTIFICATE.states
# In force (at most one per person: a partial unique index): the holder has this certificate.
LIVE_STATES = CERTIFICATE.subset("valid", "frozen")
FINAL_STATES = CERTIFICATE.final
