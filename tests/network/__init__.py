"""Tests of rehab_net/network/."""
