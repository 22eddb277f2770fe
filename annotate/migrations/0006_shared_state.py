"""State every app server shares through the database: login throttle counters, and the
project guidelines rendered once per change (with their size limit)."""

from django.db import migrations, models

import annotate.models.projects


def render_guidelines(apps, schema_editor):
    from annotate.guidelines import render

    Project = apps.get_model("annotate", "Project")
    for project in Project.objects.exclude(guidelines="").only("pk", "guidelines").iterator():
        Project.objects.filter(pk=project.pk).update(guidelines_html=render(project.guidelines))


class Migration(migrations.Migration):
    dependencies = [("annotate", "0005_facts")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="guidelines_html",
            field=models.TextField(
                blank=True,
                editable=False,
                help_text="The guidelines rendered, written by save() whenever they change.",
            ),
        ),
        migrations.AlterField(
            model_name="project",
            name="guidelines",
            field=models.TextField(
                blank=True,
                help_text="Markdown, shown to editors; at most 100,000 characters.",
                validators=[annotate.models.projects.validate_guidelines],
            ),
        ),
        migrations.RunPython(render_guidelines, migrations.RunPython.noop),
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
