"""Tests of rehab_net/reports/."""
