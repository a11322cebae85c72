"""The codes of the referral refusals and their English msgids (rehab_net/messages.py): the
operations raise the code, the API shows the English text, the pages the catalogue's."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    # why applying a plan skipped a proposal (referrals_from_plan): the API's `reason` is the
    # English text, `code` the code
    "plan_apply.no_facility": N_("no facility proposed"),
    "plan_apply.no_home_clinic": N_("no open clinic or station at home"),
    "plan_apply.home_tier": N_("served at home tier"),
    "plan_apply.open_referral": N_("has an open referral"),
    "plan_apply.lower_tier": N_("proposed a lower tier"),
    "referral.not_found": N_("There is no referral %(code)s."),
    "referral.system_step": N_("Only the deadline check takes that step."),
    "referral.sender_only": N_("Only staff of the sending facility may do that."),
    "referral.receiver_only": N_("Only staff of the receiving facility may do that."),
    "referral.facility_unknown": N_("facility %(code)s does not exist"),
    "referral.facility_not_open": N_("facility %(code)s is not open"),
    "referral.sender_needed": N_("say which of your facilities sends it"),
    "referral.sender_not_yours": N_("you do not work at that facility"),
    "referral.same_facility": N_("must be another facility than the sender"),
    "referral.wrong_tier_up": N_("an up-referral goes to a higher tier than the sender's"),
    "referral.wrong_tier_down": N_("a down-referral goes to a lower tier than the sender's"),
    "referral.case_unknown": N_("%(code)s does not exist"),
    "referral.service_not_offered": N_("%(code)s does not offer %(service)s"),
    "referral.answers_needed": N_("a down-referral names the up-referral it answers"),
    "referral.plan_needed": N_("a down-referral carries the continued-rehab plan"),
    "referral.answers_wrong": N_("must be an up-referral of the same case, received by the "
                                 "sending facility"),
    "referral.answers_not_down": N_("only a down-referral answers another referral"),
    "referral.action_unknown": N_("There is no referral action %(action)s."),
    "referral.wrong_state": N_("A referral that is %(state)s cannot be %(past)s; allowed from: "
                               "%(allowed)s."),
    "referral.state_is": N_("is %(state)s"),
    "referral.decline_reason_needed": N_("choose why the referral is declined"),
    "referral.reason_needed": N_("give the reason"),
    "referral.advice_needed": N_("give your advice to the sender"),
    "referral.outcome_needed": N_("record the outcome for the sender"),
    "referral.changed_meanwhile": N_("Someone else changed this referral first: it is now "
                                     "%(state)s."),
    "referral.state_is_now": N_("is now %(state)s"),
    "referral.version_is_now": N_("is now %(version)s"),
    "referral.notification_not_found": N_("There is no notification %(id)s."),
    "referral.box_unknown": N_("must be needs_action, awaiting_others, overdue or "
                               "recently_closed"),
    "referral.re_refer_state": N_("Only a declined, returned or expired referral is sent "
                                  "elsewhere; this one is %(state)s."),
    "referral.re_referred_already": N_("Referral %(code)s was sent elsewhere already: "
                                       "%(again)s."),
    "referral.file_empty": N_("is empty"),
    "referral.file_too_large": N_("is larger than 5 MB"),
    "referral.file_type": N_("must be a PDF, PNG or JPEG file"),
    "referral.attachment_not_found": N_("Referral %(code)s has no attachment %(id)s."),
    "referral.not_your_facility": N_("is not one of your facilities"),
    "referral.file_field": N_("send the file as multipart field 'file'"),
    "referral.box_side": N_("give side (incoming or outgoing) with box"),
})
