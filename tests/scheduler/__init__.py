"""Tests of rehab_net/scheduler/."""
