"""Plans: one optimiser run over the live database. The instance is built from the network and the
waiting cases (adapters.py), solved outside the web request by a worker (worker.py), and the
proposals stored so they can be browsed and, later, turned into referrals and bookings."""
