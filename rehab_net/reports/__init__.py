"""Quarterly statistics (统计季报)."""
