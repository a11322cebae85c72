"""Tests of rehab_net/coverage/."""
