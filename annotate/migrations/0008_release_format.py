"""Releases keep the project's label order (which decides ties between spans in exports) and
say whether they carry facts; releases made before stay as they were (format version 1)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotate", "0007_workflow")]

    operations = [
        migrations.AddField(
            model_name="release",
            name="format_version",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text="1: spans only, ties by label key; 2: facts (attributes, relations), ties by label order.",
            ),
        ),
        migrations.AddField(
            model_name="release",
            name="label_order",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Label keys in the project's order at release time (tied spans follow it).",
            ),
        ),
    ]
