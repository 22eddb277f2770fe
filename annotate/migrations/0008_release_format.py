"""Releases keep the project's label order, which decides ties between spans in exports."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotate", "0007_workflow")]

    operations = [
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
