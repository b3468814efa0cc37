"""Enumerations stored in catalog tables."""

from django.db import models


class LocationType(models.TextChoices):
    FILE = "file", "File path or glob"
    URL = "url", "URL"


class LocationOrigin(models.TextChoices):
    CONFIG = "config", "Static, from the config file"
    REGISTERED = "registered", "Registered at run time"


class RunTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Periodic refresh"
    REGISTRATION = "registration", "New registration"
    MANUAL = "manual", "Refresh requested"
    ENTITY = "entity", "Refresh of one entity"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"


class SourceStatus(models.TextChoices):
    NEW = "new", "Not read yet"
    OK = "ok", "Read and valid"
    PARTIAL = "partial", "Read, some documents invalid"
    FAILED = "failed", "Could not be read or parsed"


class OrphanStrategy(models.TextChoices):
    DELETE = "delete", "Delete orphaned entities"
    KEEP = "keep", "Keep orphaned entities, marked"
