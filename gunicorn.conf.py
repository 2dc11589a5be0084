"""gunicorn's settings file, read from the working directory by every `gunicorn` started here (`make run`)."""


def on_starting(server):
    """Warn, once and in the master, when several workers would each keep their own rate-limit counters."""
    from shop.config import per_worker_limits_warning, rate_limit_storage_uri

    warning = per_worker_limits_warning(server.cfg.workers, rate_limit_storage_uri())
    if warning:
        server.log.warning(warning)
