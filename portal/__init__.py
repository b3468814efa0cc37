"""Greenroom's project package: settings, root URLs, the Celery app and background dispatch."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
