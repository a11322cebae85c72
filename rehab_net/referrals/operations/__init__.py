"""The referral operations, one module per job (flush only; the caller commits):

- ``visibility``: who may see and act (acting_facilities, visible, get_referral, check_side,
  Forbidden); every other module uses it;
- ``workflow``: create, act (one conditional UPDATE per transition), the case following its
  referrals, add_end_follower (booking's hook), re_refer, TIER_RANK;
- ``notifications``: what a step tells whom, the notification lists, read marks, the outbox;
- ``deadline_check``: the scheduler's job: overdue, escalated, expired;
- ``inbox``: the boxes of a facility's inbox and outbox;
- ``suggestions``: where else a declined or returned referral may go;
- ``attachments``: a referral's files;
- ``fhir_facts``: a referral row read into what the pure FHIR mapping (``referrals.fhir``) needs;
- ``from_plan``: the referrals a plan's proposals make, and the plans they cite.

Import a name from the module that owns it; this package re-exports nothing.
"""
