"""Workflow: reviewable threshold, reassignment, flags, comments."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0006_shared_state"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="reviewable_after",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="How many submitted annotations make an article ready for review; "
                "empty: the overlap. An article whose assigned editors have all submitted is "
                "ready anyway.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="assignment_timeout_hours",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Hours after which an article its editor has not started goes to "
                "another editor; empty: never.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="anonymous_review",
            field=models.BooleanField(
                default=False,
                help_text="Reviewers see editors as Editor A, B, … on the adjudication page.",
            ),
        ),
        migrations.AddConstraint(
            model_name="project",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reviewable_after__isnull", True),
                    ("reviewable_after__gte", 1),
                    _connector="OR",
                ),
                name="project_reviewable_after_at_least_one",
                violation_error_message="At least one submission must make an article reviewable.",
            ),
        ),
        migrations.AddConstraint(
            model_name="project",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("assignment_timeout_hours__isnull", True),
                    ("assignment_timeout_hours__gte", 1),
                    _connector="OR",
                ),
                name="project_assignment_timeout_at_least_one_hour",
                violation_error_message="The assignment timeout is at least one hour.",
            ),
        ),
        migrations.CreateModel(
            name="Handover",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("reassigned", "Reassigned by a manager"),
                            ("timeout", "Not started in time"),
                            ("left", "Editor left the project"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "version",
                    models.PositiveIntegerField(
                        default=0, help_text="The version of that work when it was handed over."
                    ),
                ),
                (
                    "assigned_at",
                    models.DateTimeField(help_text="When the editor had been given the article."),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "annotation",
                    models.ForeignKey(
                        blank=True,
                        help_text="The work the editor left, if they had started.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="annotate.annotation",
                    ),
                ),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="handovers",
                        to="annotate.article",
                    ),
                ),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        help_text="The manager who did it; empty when it happened by itself.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "from_editor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="handovers_given",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "to_editor",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: no other editor could take it; it waits for the next one.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="handovers_taken",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["article", "created_at", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("from_editor", models.F("to_editor")), _negated=True),
                        name="handover_to_another_editor",
                        violation_error_message="An article is handed to another editor.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Flag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("not_relevant", "Not relevant"),
                            ("duplicate", "Duplicate"),
                            ("broken_text", "Broken text"),
                            ("needs_discussion", "Needs discussion"),
                        ],
                        max_length=20,
                    ),
                ),
                ("note", models.TextField(blank=True, max_length=2000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "verdict",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("upheld", "Upheld: the article stays out"),
                            ("dismissed", "Dismissed: label it"),
                        ],
                        default="open",
                        max_length=12,
                    ),
                ),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("resolution_note", models.TextField(blank=True, max_length=2000)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="flags",
                        to="annotate.article",
                    ),
                ),
                (
                    "raised_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="flags",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["article", "created_at", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("verdict", "open")),
                        fields=("article", "raised_by"),
                        name="one_open_flag_per_editor_and_article",
                        violation_error_message="You have already flagged this article.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("resolved_at__isnull", True), ("verdict", "open")),
                            models.Q(
                                models.Q(("verdict", "open"), _negated=True),
                                ("resolved_at__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="flag_resolved_when_decided",
                        violation_error_message="A decided flag records when it was resolved.",
                    ),
                ],
            },
        ),
        # The labelling page: spans longer than this ask for a confirmation.
        migrations.AddField(
            model_name="project",
            name="long_span_chars",
            field=models.PositiveIntegerField(
                blank=True,
                default=150,
                help_text="Spans longer than this many characters need a confirmation on the "
                "labelling page and are pointed out before a gold is marked final (as are spans "
                "that cross a paragraph break); empty: no length limit.",
                null=True,
            ),
        ),
        migrations.CreateModel(
            name="Comment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "author_role",
                    models.CharField(help_text="The author's role when writing.", max_length=16),
                ),
                ("body", models.TextField(max_length=2000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="comments",
                        to="annotate.article",
                    ),
                ),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="comments",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "span",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: about the whole article.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="comments",
                        to="annotate.span",
                    ),
                ),
            ],
            options={
                "ordering": ["article", "created_at", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("body", ""), _negated=True),
                        name="comment_not_empty",
                        violation_error_message="A comment needs some text.",
                    ),
                ],
            },
        ),
    ]
