"""State every app server shares through the database (login throttle counters)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("annotate", "0005_facts")]

    operations = []
