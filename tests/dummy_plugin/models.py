from __future__ import annotations

from django.db import models


class DummyNote(models.Model):
    """A note about an entity: the test plugin's own model and migration."""

    entity_ref = models.CharField(max_length=255)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.entity_ref}: {self.text[:40]}"
