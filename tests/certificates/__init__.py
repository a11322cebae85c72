"""Tests of rehab_net/certificates/."""
