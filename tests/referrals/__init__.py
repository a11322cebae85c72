"""Tests of rehab_net/referrals/."""
