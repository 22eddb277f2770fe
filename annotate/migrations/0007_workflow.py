"""Workflow: reviewable threshold, reassignment, flags, comments."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("annotate", "0006_shared_state")]

    operations = []
