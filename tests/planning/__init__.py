"""Tests of rehab_net/planning/."""
