"""Two-way referrals."""
