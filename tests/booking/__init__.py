"""Tests of rehab_net/booking/."""
