"""Planning's scheduler jobs (registered by rehab_net.planning.init_app, run by `rehab-net
scheduler`): every 5 minutes, plans whose job the queue (Redis) lost are queued again and running
plans whose worker stopped marked error (queue.sweep); every night, old plans are deleted
(retention.py)."""
from __future__ import annotations

from rehab_net.scheduler import Job

JOBS = (
    Job.every_minutes("planning-requeue", "rehab_net.planning.queue:sweep", minutes=5),
    Job.daily("planning-prune", "rehab_net.planning.retention:job", hour=3),
)
