"""The closed vocabularies of the domain, in one place: the database CHECK constraints, the
schemas, the import validator and the UI all read them from here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

REGION_LEVELS = ("city", "district", "township", "village")
# The local name of each level (旗 banner, 苏木 sumu, 嘎查 gacha ...).
REGION_KINDS = {
    "city": ("city",),
    "district": ("district", "banner", "county_city"),
    "township": ("township", "sumu", "street"),
    "village": ("village", "gacha", "community"),
}
TIERS = ("centre", "station", "clinic")
OWNERSHIPS = ("public", "private", "contracted")
FACILITY_STATUSES = ("open", "planned", "closed")

# GB/T 26341-2010 categories 1-7, plus autism as its own programme category.
CATEGORIES = ("vision", "hearing", "speech", "physical", "intellectual", "mental", "multiple",
              "autism")
SERVICE_KINDS = ("assessment", "surgery", "device_fitting", "training", "day_care", "follow_up")

SEXES = ("M", "F")
POVERTY_STATUSES = ("none", "dibao", "jiandang")
PRIORITY_CLASSES = ("child", "severe", "poor", "standard")

LABELS_ZH = {
    "city": "市", "district": "旗市区", "township": "苏木乡镇街道", "village": "嘎查村社区",
    "centre": "康复中心/定点机构", "station": "乡镇康复站", "clinic": "村卫生室",
    "vision": "视力", "hearing": "听力", "speech": "言语", "physical": "肢体",
    "intellectual": "智力",
    "mental": "精神", "multiple": "多重", "autism": "孤独症",
    "assessment": "评估", "surgery": "手术", "device_fitting": "辅助器具适配",
    "training": "康复训练",
    "day_care": "托养/日间照料", "follow_up": "随访",
    "child": "0-6岁儿童", "severe": "重度", "poor": "困难家庭", "standard": "一般",
}

# The same labels as English msgids, translated at use (translations/*/messages.po); label()
# picks the one for the request's language. Values are unique across these vocabularies.
LABELS = {
    "city": _l("City"), "district": _l("District / banner / county-level city"),
    "township": _l("Township / sumu / street"), "village": _l("Village / gacha / community"),
    "centre": _l("Rehab centre / designated institution"),
    "station": _l("Township rehab station"), "clinic": _l("Village clinic"),
    "vision": _l("Vision"), "hearing": _l("Hearing"), "speech": _l("Speech"),
    "physical": _l("Physical"), "intellectual": _l("Intellectual"), "mental": _l("Mental"),
    "multiple": _l("Multiple"), "autism": _l("Autism"),
    "assessment": _l("Assessment"), "surgery": _l("Surgery"),
    "device_fitting": _l("Assistive device fitting"), "training": _l("Rehabilitation training"),
    "day_care": _l("Residential / day care"), "follow_up": _l("Follow-up"),
    "child": _l("Children aged 0-6"), "severe": _l("Severe"), "poor": _l("Low-income family"),
    "standard": _l("Standard"),
    "public": _l("Public"), "private": _l("Private"), "contracted": _l("Contracted"),
    "open": _l("Open"), "planned": _l("Planned"), "closed": _l("Closed"),  # also a case's
    "none": _l("None"), "dibao": _l("Minimum living allowance (dibao)"),
    "jiandang": _l("Registered poor household (jiandang)"),
    "registered": _lp("case status", "Registered"), "waiting": _l("Waiting"),
    "referred": _lp("case status", "Referred"), "in_service": _l("In service"),
    "completed": _l("Completed"),  # "accepted" (a case's too) is labelled with the referrals
    # plan statuses (rehab_net.planning.states.PLAN_STATUSES)
    "queued": _l("Queued"), "running": _l("Running"), "optimal": _l("Optimal"),
    "feasible": _l("Feasible"), "error": _l("Error"), "cancelled": _l("Cancelled"),
    # referral states (referrals/states.py; completed, closed and cancelled are labelled above)
    "draft": _lp("referral state", "Draft"), "sent": _lp("referral state", "Sent"),
    "received": _lp("referral state", "Received"), "accepted": _lp("referral state", "Accepted"),
    "declined": _lp("referral state", "Declined"), "returned": _lp("referral state", "Returned"),
    "in_progress": _lp("referral state", "In rehabilitation"),
    "expired": _lp("referral state", "Expired"),
    # referral urgencies and directions
    "routine": _l("Routine"), "urgent": _l("Urgent"), "emergency": _l("Emergency"),
    "up": _l("Up-referral (to a higher tier)"), "down": _l("Down-referral (back to a lower tier)"),
    # why a receiving facility declines (DECLINE_REASONS)
    "no_capacity": _l("No free places"), "service_not_offered": _l("Service not offered here"),
    "not_eligible": _l("Not eligible for this service"),
    "incomplete_referral": _l("Referral incomplete"),
    "patient_unreachable": _l("Person or family cannot be reached"),
    "other": _l("Other reason"),
    # notification kinds (NOTIFICATION_KINDS)
    "referral_received": _l("New referral received"),
    "referral_answered": _l("Referral answered"), "referral_overdue": _l("Referral overdue"),
    "referral_escalated": _l("Overdue referral escalated to planners"),
    "referral_expired": _l("Referral expired unanswered"),
    "referral_completed": _l("Referral completed: outcome recorded"),
    "appointment_booked": _l("Appointment booked for your referral"),
    "appointment_moved": _l("Appointment of your referral moved"),
    "appointment_cancelled": _l("Appointment of your referral cancelled"),
    "referral_bookings_cancelled": _l(
        "Referral ended: its future appointments and waitlist places were cancelled"),
    "course_booked": _l("Course of therapy booked for your referral"),
    "course_sessions_affected": _l(
        "Sessions of a course of your referral moved or to be moved: practitioner on leave"),
}


def label(value) -> str:
    """The label of a vocabulary value in the current language; an unknown value as it is."""
    text = LABELS.get(value)
    if text is None:
        return "" if value is None else str(value)
    return str(text)  # a lazy string: translated now, in the request's language


def sql_in(column: str, values) -> str:
    """A CHECK constraint body: column IN ('a', 'b')."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"

# Roles of users. Each is granted at a place: a facility (coordinator, clinic) or a region
# (planner, admin, auditor; no region = the whole network).
ROLES = ("coordinator", "clinic", "planner", "admin", "auditor")
FACILITY_ROLES = ("coordinator", "clinic")
# Actions recorded in the audit log.
AUDIT_ACTIONS = ("read", "list", "reveal", "create", "update", "delete", "import", "export",
                 "login", "login_failed", "logout", "token_create", "token_revoke", "grant",
                 "revoke", "duplicate_id")

# Referrals. The states of every workflow (REFERRAL_STATES, APPOINTMENT_STATUSES,
# WAITLIST_STATUSES, PLAN_STATUSES, CASE_STATUSES and their open/final/active sets) are derived
# from its table in <module>/states.py (docs/states.md); only their labels are here.
DIRECTIONS = ("up", "down")
URGENCIES = ("routine", "urgent", "emergency")
# Why a receiving facility declines (plus free text).
DECLINE_REASONS = ("no_capacity", "service_not_offered", "not_eligible", "incomplete_referral",
                   "patient_unreachable", "other")
NOTIFICATION_KINDS = ("referral_received", "referral_answered", "referral_overdue",
                      "referral_escalated", "referral_expired", "referral_completed",
                      # to the sending facility, about its patient's appointments
                      "appointment_booked", "appointment_moved", "appointment_cancelled",
                      # to the facility holding the appointments of a referral that ended
                      "referral_bookings_cancelled",
                      # to the sending facility: a course of therapy booked for its patient, and
                      # sessions of it moved or to be moved because the practitioner is on leave
                      "course_booked", "course_sessions_affected")

# Booking (rehab_net/booking; appointment and waitlist statuses: booking/states.py). A slot's
# FHIR status (free, busy, busy-tentative, busy-unavailable) is derived from its appointments.
SLOT_STATUSES = ("open", "withdrawn")
SLOT_FHIR_STATUSES = ("free", "busy-tentative", "busy", "busy-unavailable")
SCHEDULE_KINDS = ("weekly", "session")
EXCEPTION_KINDS = ("leave", "closure")
CANCEL_REASONS = ("family_request", "facility_request", "practitioner_unavailable",
                  "rescheduled", "hold_expired", "offer_expired", "offer_declined",
                  "referral_closed", "other")
PROFESSIONS = ("physician", "therapist", "nurse", "technician")
# When a family on the waitlist can come (booking/waitlist.py): parts of a local day, by the
# hour a slot starts (morning before 12:00, afternoon 12:00-18:00, evening from 18:00), and the
# hour each part ends. An entry keeps weekdays and parts as bit masks (Monday, morning = bit 0);
# 0 = any.
DAY_PARTS = ("morning", "afternoon", "evening")
DAY_PART_ENDS = {"morning": 12, "afternoon": 18, "evening": 24}

LABELS.update({
    # appointment statuses (booking/states.py; cancelled is labelled above)
    "proposed": _lp("appointment status", "Offered from the waitlist"),
    "pending": _lp("appointment status", "Held, to be confirmed"),
    "booked": _lp("appointment status", "Booked"),
    "arrived": _lp("appointment status", "Arrived"),
    "fulfilled": _lp("appointment status", "Attended"),
    "noshow": _lp("appointment status", "Did not attend"),
    # slot statuses (stored, and the FHIR ones shown)
    "withdrawn": _lp("slot status", "Withdrawn"),
    "free": _lp("slot status", "Free"), "busy": _lp("slot status", "Fully booked"),
    "busy-tentative": _lp("slot status", "Full, with holds"),
    "busy-unavailable": _lp("slot status", "Unavailable"),
    # schedules and exceptions
    "weekly": _l("Weekly schedule"), "session": _l("One-off session"),
    "leave": _l("Leave"), "closure": _l("Facility closed"),
    # waitlist (waiting is labelled above)
    "offered": _lp("waitlist status", "Offered a place"),
    "removed": _lp("waitlist status", "Removed from the waitlist"),
    # why an appointment was cancelled (CANCEL_REASONS; other is labelled above)
    "family_request": _l("The family asked to cancel"),
    "facility_request": _l("The facility cancelled"),
    "practitioner_unavailable": _l("The practitioner is not available"),
    "rescheduled": _l("Moved to another time"),
    "hold_expired": _l("Hold expired unconfirmed"),
    "offer_expired": _l("Waitlist offer expired"),
    "offer_declined": _l("Waitlist offer declined"),
    "referral_closed": _l("The referral was closed"),
    # professions of practitioners
    "physician": _l("Rehabilitation physician"), "therapist": _l("Therapist"),
    "nurse": _l("Nurse"), "technician": _l("Assistive device technician"),
    # parts of the day a family can come (DAY_PARTS)
    "morning": _l("Morning (before 12:00)"), "afternoon": _l("Afternoon (12:00-18:00)"),
    "evening": _l("Evening (from 18:00)"),
    # certificate states (certificates/states.py; cancelled and expired are labelled above)
    "valid": _l("Valid"), "frozen": _l("Frozen"),
    # course statuses (booking/states.py; completed and cancelled are labelled above)
    "active": _lp("course status", "Running"),
})

# The national basic rehabilitation service catalogue (rehab_net/catalogue, docs/catalogue.md):
# its two parts by age, its seven categories (psychiatric is `mental`, GB/T 26341 category 6;
# autism its own programme category), the kinds of its items, the dose rules an item may have,
# and what the comparison with what was delivered finds.
CATALOGUE_PARTS = ("0-6", "7+")
CATALOGUE_CATEGORIES = ("vision", "hearing", "speech", "physical", "intellectual", "mental",
                        "autism")
CATALOGUE_KINDS = ("training", "device_fitting", "surgery", "medication", "nursing",
                   "assessment")
DOSE_RULES = ("once", "times_per_year", "months_per_year", "weekly_for_weeks")
DOSE_STATUSES = ("met", "due", "overdue", "missed")

LABELS.update({
    "0-6": _l("Children aged 0-6"), "7+": _l("Aged 7 and over"),
    "medication": _l("Medication"), "nursing": _l("Nursing / day care"),
    "met": _lp("catalogue", "Met"), "due": _lp("catalogue", "Due"),
    "overdue": _lp("catalogue", "Overdue"),
    "missed": _lp("catalogue", "Cannot be met this year or broken off"),
})
