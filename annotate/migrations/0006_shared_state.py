"""State every app server shares through the database (login throttle counters)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotate", "0005_facts")]

    operations = [
        migrations.CreateModel(
            name="ThrottleCounter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=100, unique=True)),
                ("count", models.PositiveIntegerField(default=0)),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("count__gte", 0)),
                        name="throttle_count_not_negative",
                        violation_error_message="A throttle count cannot be negative.",
                    )
                ],
            },
        ),
    ]
