"""Slot booking: practitioners at several sites, schedules, slots, appointments, the waitlist
(docs/booking.md)."""
