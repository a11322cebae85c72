"""The codes of the booking refusals (appointments, slots, schedules, the waitlist) and their
English msgids (rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    "appointment.not_found": N_("There is no such appointment."),
    "booking.key_reused": N_("was used for another request"),
    "booking.referral_not_found": N_("There is no referral %(code)s."),
    "booking.referral_not_bookable": N_("Only an accepted referral (or one in rehabilitation) is "
                                        "booked; this one is %(state)s."),
    "booking.state_is": N_("is %(state)s"),
    "booking.status_is": N_("is %(status)s"),
    "booking.status_is_now": N_("is now %(status)s"),
    "booking.slot_other_facility": N_("is not at the facility that received the referral"),
    "booking.slot_other_service": N_("is not for the referral's service"),
    "booking.slot_withdrawn": N_("The slot was withdrawn from the schedule."),
    "booking.slot_withdrawn_rule": N_("is withdrawn"),
    "booking.slot_begun": N_("The slot has already begun."),
    "booking.slot_past_rule": N_("is in the past"),
    "booking.hold_expired": N_("The hold expired before it was confirmed; book again."),
    "booking.hold_expired_rule": N_("hold expired"),
    "booking.decline_not_offer": N_("Only a waitlist offer is declined; this appointment is "
                                    "%(status)s."),
    "booking.same_slot": N_("is the slot the appointment already has"),
    "booking.reschedule_status": N_("An appointment that is %(status)s cannot be rescheduled."),
    "booking.arrival_day": N_("Arrival is recorded on the day of the appointment."),
    "booking.attendance_day": N_("Attendance is recorded on the day of the appointment or "
                                 "later."),
    "booking.later_day_rule": N_("is on a later day"),
    "booking.no_show_early": N_("A no-show is recorded once the appointment has begun."),
    "booking.not_begun_rule": N_("has not begun"),
    "booking.slot_unknown": N_("no such slot"),
    "booking.slot_full": N_("Every place of this slot is taken."),
    "booking.slot_full_rule": N_("has no free place"),
    "booking.person_overlap": N_("The person already has an appointment at an overlapping "
                                 "time."),
    "booking.person_overlap_rule": N_("overlaps another appointment of the person"),
    "booking.move_status": N_("An appointment that is %(status)s cannot be %(action)s."),
    "booking.changed_meanwhile": N_("Someone else changed this appointment first: it is now "
                                    "%(status)s."),
    "booking.race": N_("Another booking got in the way at the same moment; try again."),
    "booking.to_before_from": N_("must not be before from"),
    "booking.code_unknown": N_("%(code)s does not exist"),
    "booking.cancel_reason": N_("say why the appointment is cancelled"),
    "booking.new_slot_needed": N_("name the new slot"),
    "waitlist.referral_state": N_("Only an accepted referral (or one in rehabilitation) waits "
                                  "for a place; this one is %(state)s."),
    "waitlist.entry_status": N_("The entry is %(status)s already."),
    "waitlist.changed_meanwhile": N_("Someone else changed this entry first; reload it."),
    "waitlist.not_found": N_("There is no waitlist entry %(id)s."),
    "booking.not_yours": N_("There is no such %(what)s among your facilities."),
    "practitioner.not_yours": N_("There is no practitioner %(code)s at your facilities."),
    "practitioner.not_found": N_("There is no practitioner %(code)s."),
    "booking.facility_unknown": N_("facility %(code)s does not exist"),
    "booking.facility_not_yours": N_("is not one of your facilities"),
    "practitioner.exists": N_("Practitioner %(code)s exists already."),
    "practitioner.code_taken_rule": N_("is taken"),
    "practitioner.facility_needed": N_("name at least one facility where they practise"),
    "practitioner.unknown": N_("%(code)s does not exist"),
    "practitioner.not_at_facility": N_("%(practitioner)s does not practise at %(facility)s; add "
                                       "the facility first"),
    "practitioner.inactive": N_("is not active"),
    "schedule.service_tier": N_("%(service)s is not given at a %(tier)s"),
    "schedule.end_before_start": N_("must be after start_time"),
    "schedule.slot_too_long": N_("must fit between start_time and end_time"),
    "schedule.weekday_needed": N_("choose at least one weekday (1 = Monday ... 7 = Sunday)"),
    "schedule.until_before_from": N_("must not be before valid_from"),
    "schedule.session_date": N_("give the date of the session"),
    "practitioner.overlap": N_("The practitioner already has a slot at an overlapping time (at "
                               "this or another facility)."),
    "practitioner.overlap_rule": N_("overlaps the practitioner's time"),
    "practitioner.busy_rule": N_("is busy at that time"),
    "exception.end_before_start": N_("must be after starts_at"),
    "exception.leave_place": N_("leave names a practitioner (and no facility)"),
    "exception.closure_place": N_("a closure names a facility (and no practitioner)"),
    "booking.key_used": N_("This Idempotency-Key was already used for another request."),
    "waitlist.open": N_("The referral is already on the waitlist."),
    "waitlist.open_rule": N_("is already waiting"),
    "booking.db_conflict": N_("The change conflicts with existing data (a rule of the "
                              "database)."),
    "schedule.session_date_schema": N_("give the date of the one-off session"),
    "schedule.weekday_schema": N_("choose at least one weekday"),
    "search.lat_lon": N_("give lat and lon"),
    "search.one_place": N_("give one place: lat/lon, near_facility or near_region"),
    "search.place_needed": N_("give a place to measure from"),
    "booking.year_range": N_("must be between 2000 and 2100"),
    "schedule.time_format": N_("must be HH:MM (00:00-23:59)"),
    "booking.key_format": N_("1-80 characters of A-Z a-z 0-9 . _ : -"),
    "booking.jumps_waitlist": N_("Booking this slot passes over %(count)s waiting cases placed "
                                 "before this referral on the waitlist who can come then "
                                 "(first: referral %(referral)s); say why in jump_reason."),
    "booking.jump_reason_rule": N_("say why this referral goes before the waitlist"),
    "booking.course_jumps_waitlist": N_("%(sessions)s sessions of this course pass over %(count)s "
                                        "waiting cases placed before this referral on the "
                                        "waitlist who can come then (first on %(day)s: referral "
                                        "%(referral)s); say why in jump_reason."),
    "waitlist.weekday_unknown": N_("must be a weekday 1-7 (1 = Monday ... 7 = Sunday)"),
    "waitlist.part_unknown": N_("must be one of %(parts)s"),
    "practitioner.last_site": N_("A practitioner keeps at least one facility where they "
                                 "practise."),
    "practitioner.last_site_rule": N_("is the practitioner's only facility"),
    "practitioner.site_has_rules": N_("The practitioner has schedule rules at this facility; "
                                      "they stay on record with it (end the rules instead)."),
    "practitioner.site_has_rules_rule": N_("has schedule rules of the practitioner"),
})

define({
    "course.not_found": N_("There is no course %(code)s."),
    "course.weekday_needed": N_("choose at least one weekday"),
    "course.weekday_unknown": N_("a weekday is 1 (Monday) to 7 (Sunday)"),
    "course.part_or_time": N_("give a part of the day or a start time, not both"),
    "course.per_week_days": N_("is 1 up to the number of weekdays chosen"),
    "course.length_needed": N_("give the number of weeks or of sessions"),
    "course.weeks_range": N_("is 1 to 104 weeks"),
    "course.sessions_range": N_("is 1 to 400 sessions"),
    "course.first_day_past": N_("is in the past"),
    "course.practitioner_not_here": N_("%(code)s does not practise at this facility"),
    "course.no_sessions": N_("choose at least one session"),
    "course.session_twice": N_("the same session is chosen twice"),
    "course.session_gone": N_("Session %(number)s is no longer offered; preview the course "
                              "again. Nothing was booked."),
    "course.session_gone_rule": N_("is no longer offered"),
    "course.session_refused": N_("Session %(number)s could not be booked; nothing was booked. "
                                 "Preview the course again."),
    "course.not_group": N_("is not a group session"),
    "course.scope_unknown": N_("is this, following or all"),
    "course.session_unknown": N_("the course has no session %(number)s"),
    "course.nothing_to_change": N_("No session of this choice is still to come."),
    "course.not_movable_rule": N_("has no session to come"),
    "course.starts_at_needed": N_("give the session's new start"),
    "course.session_outside": N_("is outside the course's weeks"),
    "course.move_outside": N_("is between today and %(weeks)s weeks ahead"),
})
