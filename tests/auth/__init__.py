"""Tests of rehab_net/auth/."""
