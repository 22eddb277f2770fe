"""Facts: typed attributes on labels and spans, relation types and versioned relations."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("annotate", "0004_version_guards")]

    operations = []
