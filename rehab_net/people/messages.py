"""The codes of the people refusals (persons, cases, identifiers) and their English msgids
(rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    "person.not_found": N_("There is no person %(code)s."),
    "case.not_found": N_("There is no case %(code)s."),
    "person.id_registered_as": N_("Person %(code)s has this resident ID number already."),
    "person.id_registered": N_("This resident ID number is registered already."),
    "person.birth_date_mismatch": N_("does not match the birth date in resident_id"),
    "person.sex_mismatch": N_("does not match resident_id (its 17th digit: odd = M)"),
    "person.region_unknown": N_("%(code)s does not exist"),
    "person.region_not_village": N_("must be a village-level region (village, gacha or "
                                    "community)"),
    "person.outside_area": N_("is outside the area you work for"),
    "person.exists": N_("Person %(code)s exists already."),
    "person.id_not_found": N_("No person has that resident ID number."),
    "person.phone_format": N_("must be an 11-digit mobile number or a fixed line 0NNN-NNNNNNN"),
    "case.service_category": N_("is a %(service_category)s service; the case's category is "
                                "%(category)s"),
    "case.exists": N_("Case %(code)s exists already."),
    "case.open_exists": N_("%(person)s has an open case for %(service)s already: %(case)s."),
    "case.open_exists_rule": N_("an open case exists already: %(case)s"),
    "case.person_unknown": N_("%(code)s does not exist"),
    "case.service_unknown": N_("%(code)s does not exist"),
    "case.registered_future": N_("is in the future"),
    "case.registered_before_birth": N_("is before the person's birth"),
    "case.status_change": N_("cannot change from %(status)s to %(to)s; allowed: %(allowed)s"),
    # identifiers.py (GB 11643 resident ID, GB/T 26341 certificate)
    "person.id_format": N_("must be 18 characters: 17 digits and a check digit or X"),
    "person.id_birth_date_invalid": N_("embedded birth date is not a real date"),
    "person.id_birth_date_early": N_("embedded birth date is before 1900"),
    "person.id_check_character": N_("check character does not match (ISO 7064 MOD 11-2)"),
    "case.certificate_format": N_("must be 20 characters: the resident ID, a category digit, a "
                                  "grade digit"),
    "case.certificate_category_digit": N_("category digit must be 1-7 (GB/T 26341)"),
    "case.certificate_grade_digit": N_("grade digit must be 1-4"),
    "case.certificate_not_person": N_("does not contain the person's resident ID number"),
    "case.certificate_category": N_("category digit %(digit)s does not match the case category "
                                    "%(category)s"),
    "case.certificate_grade": N_("grade digit %(digit)s does not match the case grade %(grade)s"),
})
