"""Tests of rehab_net/catalogue/."""
