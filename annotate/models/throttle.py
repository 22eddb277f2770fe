"""Counters of password attempts, shared by every worker and every app server."""

from __future__ import annotations

from django.db import models


class ThrottleCounter(models.Model):
    """Attempts counted under one key (a scope and a hashed username or address) in a fixed
    window that ends at ``expires_at``. Written only by :mod:`annotate.throttle`, by one
    atomic upsert per attempt; a row past its window counts as zero and is reused or purged."""

    key = models.CharField(max_length=100, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(count__gte=0),
                name="throttle_count_not_negative",
                violation_error_message="A throttle count cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.count} until {self.expires_at:%H:%M:%S}"
