"""`cdip worker`: run the background jobs (messages to patients, hold sweeps, the daily rules
sweep, queued jobs) in a process of their own. Run any number, on any machines sharing the
PostgreSQL database: queued work is claimed with leases (FOR UPDATE SKIP LOCKED) and each
periodic job runs once per period across all of them. Set CDIP_RUN_JOBS_IN_SERVER=false so
`cdip serve` leaves the jobs to the workers. Stops cleanly on SIGTERM or Ctrl-C (work in
hand is finished); a worker killed outright leaves its work to the others once its leases
lapse."""

from __future__ import annotations

import logging
import signal
import threading

import typer
from sqlalchemy.engine import make_url

from booking_api.core.config import get_settings
from booking_api.core.db import database_kind
from booking_api.core.logging import configure_logging
from cdip_cli.serve_commands import require_migrated

logger = logging.getLogger("cdip.worker")


def worker(
    concurrency: int = typer.Option(None, min=1, max=64,
                                    help="messages in flight at once (default: "
                                         "CDIP_MESSAGE_CONCURRENCY)"),
) -> None:
    """Run the background jobs until stopped (SIGTERM, Ctrl-C)."""
    from booking_api.backfill.policy import OfferPolicy
    from booking_api.background import WORKER_APPLICATION_NAME, background_runner
    from booking_api.core.columns import utc_now
    from booking_api.database import open_database
    from booking_api.outbox.policy import MessagePolicy

    settings = get_settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"message_concurrency": concurrency})
    require_migrated(settings.database_url)
    configure_logging()
    url = settings.database_url
    if database_kind(url) == "postgresql":
        url = make_url(url).update_query_dict({"application_name": WORKER_APPLICATION_NAME}) \
            .render_as_string(hide_password=False)
    policy = MessagePolicy.from_settings(settings)
    offers = OfferPolicy.from_settings(settings) if settings.backfill_enabled else None
    database = open_database(url, messages=policy, offers=offers)
    runner = background_runner(database, settings, utc_now, policy, role="worker")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    logger.info("worker starting", extra={"owner": runner.owner,
                                          "database": database_kind(url)})
    runner.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        runner.stop()
        database.dispose()
        logger.info("worker stopped", extra={"owner": runner.owner})
