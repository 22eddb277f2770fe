"""Facts: typed attributes on labels and spans, relation types and versioned relations."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotate", "0004_version_guards")]

    operations = [
        migrations.AddField(
            model_name="span",
            name="attributes",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The label's attribute values; a change closes this row and adds one.",
            ),
        ),
        migrations.CreateModel(
            name="RelationType",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "key",
                    models.CharField(
                        max_length=32,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-Z][A-Z0-9_]{0,31}$",
                                "Use A-Z, digits and _, starting with a letter.",
                            )
                        ],
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("order", models.PositiveSmallIntegerField(default=0)),
                (
                    "from_labels",
                    models.ManyToManyField(
                        blank=True, related_name="relations_from", to="annotate.label"
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="relation_types",
                        to="annotate.project",
                    ),
                ),
                (
                    "to_labels",
                    models.ManyToManyField(
                        blank=True, related_name="relations_to", to="annotate.label"
                    ),
                ),
            ],
            options={
                "ordering": ["project", "order", "key"],
            },
        ),
        migrations.CreateModel(
            name="Relation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("from_start", models.PositiveIntegerField()),
                ("from_end", models.PositiveIntegerField()),
                ("to_start", models.PositiveIntegerField()),
                ("to_end", models.PositiveIntegerField()),
                ("added_in", models.PositiveIntegerField()),
                ("removed_in", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "annotation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="relations",
                        to="annotate.annotation",
                    ),
                ),
                (
                    "from_label",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="annotate.label",
                    ),
                ),
                (
                    "to_label",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="annotate.label",
                    ),
                ),
                (
                    "type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="relations",
                        to="annotate.relationtype",
                    ),
                ),
            ],
            options={
                "ordering": ["annotation", "from_start", "from_end", "to_start", "to_end"],
            },
        ),
        migrations.CreateModel(
            name="AttributeDefinition",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "key",
                    models.CharField(
                        max_length=32,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z][a-z0-9_]{0,31}$",
                                "Use a-z, digits and _, starting with a-z.",
                            )
                        ],
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "type",
                    models.CharField(
                        choices=[
                            ("choice", "Choice"),
                            ("integer", "Integer"),
                            ("text", "Text"),
                            ("boolean", "Yes/no"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "choices",
                    models.JSONField(blank=True, default=list, help_text="Choice attributes only."),
                ),
                (
                    "min",
                    models.IntegerField(
                        blank=True, help_text="Integer attributes only.", null=True
                    ),
                ),
                (
                    "required",
                    models.BooleanField(
                        default=False,
                        help_text="Needed to submit an annotation or make the gold final.",
                    ),
                ),
                ("order", models.PositiveSmallIntegerField(default=0)),
                (
                    "label",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attributes",
                        to="annotate.label",
                    ),
                ),
            ],
            options={
                "ordering": ["label", "order", "key"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("label", "key"),
                        name="attribute_key_unique_per_label",
                        violation_error_message="The label already has an attribute with this key.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("type__in", ("choice", "integer", "text", "boolean"))),
                        name="attribute_type_known",
                        violation_error_message="Unknown attribute type.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("min__isnull", True), ("type", "integer"), _connector="OR"
                        ),
                        name="attribute_min_only_for_integers",
                        violation_error_message="Only integer attributes have a minimum.",
                    ),
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="relationtype",
            constraint=models.UniqueConstraint(
                fields=("project", "key"),
                name="relation_type_key_unique_in_project",
                violation_error_message="A relation type with this key already exists.",
            ),
        ),
        migrations.AddIndex(
            model_name="relation",
            index=models.Index(fields=["annotation", "removed_in"], name="relation_current_idx"),
        ),
        migrations.AddIndex(
            model_name="relation",
            index=models.Index(fields=["annotation", "added_in"], name="relation_added_idx"),
        ),
        migrations.AddConstraint(
            model_name="relation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("from_end__gt", models.F("from_start")), ("to_end__gt", models.F("to_start"))
                ),
                name="relation_ends_not_empty",
            ),
        ),
        migrations.AddConstraint(
            model_name="relation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("removed_in__isnull", True),
                    ("removed_in__gt", models.F("added_in")),
                    _connector="OR",
                ),
                name="relation_removed_after_added",
            ),
        ),
        migrations.AddConstraint(
            model_name="relation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("removed_in__isnull", True)),
                fields=(
                    "annotation",
                    "type",
                    "from_start",
                    "from_end",
                    "from_label",
                    "to_start",
                    "to_end",
                    "to_label",
                ),
                name="relation_unique_while_current",
            ),
        ),
        migrations.CreateModel(
            name="ArticleFactAgreement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("editors", models.JSONField(help_text="Ids of the editors compared, ascending.")),
                (
                    "versions",
                    models.JSONField(help_text="The annotation version of each editor, in order."),
                ),
                ("stats", models.JSONField()),
                (
                    "score",
                    models.FloatField(
                        blank=True,
                        help_text="Share of the article's facts another editor matched; "
                        "empty with no facts.",
                        null=True,
                    ),
                ),
                ("computed_at", models.DateTimeField(auto_now=True)),
                (
                    "article",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="fact_agreement",
                        to="annotate.article",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="annotate.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "score"],
                "indexes": [
                    models.Index(fields=["project", "score"], name="fact_agreement_score_idx")
                ],
            },
        ),
        migrations.CreateModel(
            name="FactAgreementTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "group",
                    models.CharField(help_text="Editor ids joined by commas.", max_length=1000),
                ),
                ("editors", models.JSONField()),
                ("articles", models.PositiveIntegerField(default=0)),
                ("stats", models.JSONField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="annotate.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "group"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project", "group"), name="fact_agreement_total_group"
                    )
                ],
            },
        ),
    ]
