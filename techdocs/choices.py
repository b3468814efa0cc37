"""Choices of the TechDocs tables."""

from __future__ import annotations

from django.db import models


class BuildStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class BuildTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled check"
    CATALOG = "catalog", "Catalog change"
    MANUAL = "manual", "Asked for"
    PUBLISHED = "published", "Published from outside"
