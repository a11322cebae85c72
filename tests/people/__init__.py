"""Tests of rehab_net/people/."""
