"""Projects, labels, members, articles and assignments."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, Exists, FloatField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Length
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..highlight import marks_from_spans
from ..models import (
    Annotation,
    Article,
    ArticleAgreement,
    Assignment,
    AttributeDefinition,
    Label,
    Membership,
    Project,
    RelationType,
    Role,
    Span,
)
from ..services.annotations import spans_for_annotations
from ..services.assignment import assign_articles
from ..services.ml_backend import url_problem
from ..services.schema import attribute_usage
from ..services.workflow import hand_over_orphans, remove_member, with_readiness
from ..text import TextError, canonicalize
from .annotations import figures_table
from .common import (
    AdminMedia,
    IdFilter,
    ProjectFilter,
    color_swatch,
    count_of,
)

# --- projects and labels -------------------------------------------------------------------


class LabelForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["project", "key", "name", "color", "hotkey", "order", "description"]
        widgets = {
            "color": forms.TextInput(attrs={"type": "color"}),
            "description": forms.Textarea(attrs={"rows": 2, "cols": 40}),
        }

    def clean(self):
        data = super().clean()
        if "project" not in self.fields and self.instance.project_id:
            # The project is read-only here, so the model's unique checks skip it.
            others = Label.objects.filter(project_id=self.instance.project_id).exclude(
                pk=self.instance.pk
            )
            if data.get("key") and others.filter(key=data["key"]).exists():
                self.add_error("key", "A label with this key already exists in the project.")
            if data.get("hotkey") and others.filter(hotkey=data["hotkey"]).exists():
                self.add_error("hotkey", "Another label of the project uses this hotkey.")
        return data

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if (
            self.instance.pk
            and key != self.instance.key
            and Span.objects.filter(label=self.instance).exists()
        ):
            raise ValidationError(
                "Spans already use this label; its key cannot change (exports would "
                "silently rename them). Add a new label instead."
            )
        return key


class LabelInline(admin.TabularInline):
    model = Label
    form = LabelForm
    extra = 0
    fields = ["key", "name", "color", "hotkey", "order", "description"]
    show_change_link = True  # its attributes are on the label's page


class AttributeForm(forms.ModelForm):
    """Choices one per line; the definition is checked by the model's clean(), which asks
    the same pure rule (facts.schema.attribute_spec_problem) as the schema page and API."""

    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 24}),
        help_text="Choice attributes only: one per line.",
    )

    class Meta:
        model = AttributeDefinition
        fields = ["key", "name", "type", "choices", "min", "required", "order"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["choices"] = "\n".join(self.instance.choices or ())

    def clean_choices(self) -> list[str]:
        lines = (line.strip() for line in self.cleaned_data["choices"].splitlines())
        return [line for line in lines if line]


class AttributeInline(admin.TabularInline):
    model = AttributeDefinition
    form = AttributeForm
    extra = 0
    fields = ["key", "name", "type", "choices", "min", "required", "order", "spans_using"]
    readonly_fields = ["spans_using"]
    verbose_name = "attribute"

    @admin.display(description="current spans with a value")
    def spans_using(self, obj: AttributeDefinition) -> int | str:
        # Removing an attribute leaves stored values as they are (reads warn about them).
        return attribute_usage(obj) if obj.pk else "—"


class RelationTypeInline(admin.StackedInline):
    """Relation types of the project; ticking no label on a side means any label. A type
    that stored relations use cannot be deleted (the database protects it)."""

    model = RelationType
    extra = 0
    fields = [("key", "name", "order"), "from_labels", "to_labels"]
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}

    def get_formset(self, request: HttpRequest, obj: Project | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        labels = Label.objects.filter(project=obj) if obj else Label.objects.none()
        for name in ("from_labels", "to_labels"):
            field = formset.form.base_fields[name]
            field.queryset = labels
            field.help_text = "None ticked: any label."
        return formset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("user")


class ProjectForm(forms.ModelForm):
    ml_backend_url = forms.URLField(
        label="ML backend URL",
        required=False,
        max_length=2000,
        assume_scheme="https",
        help_text=Project._meta.get_field("ml_backend_url").help_text,
    )

    def clean_ml_backend_url(self) -> str:
        url = self.cleaned_data["ml_backend_url"]
        problem = url_problem(url) if url else None
        if problem:
            raise ValidationError(problem)
        return url


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "overlap",
        "editors_can_upload",
        "label_count",
        "member_count",
        "article_count",
        "created_at",
    ]
    list_filter = ["editors_can_upload", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = [
        "created_at",
        "guidelines_preview",
        "ml_backend_called_at",
        "ml_backend_error",
    ]
    form = ProjectForm
    fieldsets = [
        (None, {"fields": ["name", "slug", "overlap", "editors_can_upload", "created_at"]}),
        (
            "Workflow",
            {"fields": ["reviewable_after", "assignment_timeout_hours", "anonymous_review"]},
        ),
        ("Labelling page", {"fields": ["long_span_chars", "suggest_from_gold"]}),
        (
            "ML backend",
            {"fields": ["ml_backend_url", "ml_backend_called_at", "ml_backend_error"]},
        ),
        ("Guidelines", {"fields": ["guidelines", "guidelines_preview"]}),
    ]
    inlines = [LabelInline, RelationTypeInline, MembershipInline]
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_labels=count_of(Label.objects.all(), "project"),
                n_members=count_of(Membership.objects.all(), "project"),
                n_articles=count_of(Article.objects.all(), "project"),
            )
        )

    @admin.display(description="labels", ordering="n_labels")
    def label_count(self, obj: Project) -> int:
        return obj.n_labels

    @admin.display(description="members", ordering="n_members")
    def member_count(self, obj: Project) -> int:
        return obj.n_members

    @admin.display(description="articles", ordering="n_articles")
    def article_count(self, obj: Project) -> int:
        return obj.n_articles

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Editors who left hand their unsubmitted articles on; new editors (or a higher
        # overlap) take the articles that still need editors.
        hand_over_orphans(form.instance, by=request.user)
        assign_articles(form.instance)

    @admin.display(description="preview")
    def guidelines_preview(self, obj: Project) -> SafeString:
        return format_html('<div class="guidelines-preview">{}</div>', obj.guidelines_as_html())


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    form = LabelForm
    list_display = ["key", "colour", "name", "project", "hotkey", "order", "span_count"]
    list_display_links = ["key"]
    list_filter = [ProjectFilter]
    list_select_related = ["project"]
    search_fields = ["key", "name", "description", "project__name"]
    fields = ["project", "key", "name", "color", "hotkey", "order", "description"]
    inlines = [AttributeInline]
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Label]:
        current = Span.objects.filter(removed_in__isnull=True)
        return super().get_queryset(request).annotate(n_spans=count_of(current, "label"))

    def get_readonly_fields(self, request, obj=None):
        # The project is part of the label's identity: chosen once.
        return ["project"] if obj else []

    @admin.display(description="colour")
    def colour(self, obj: Label) -> SafeString:
        return format_html(
            '<span class="label-tag">{}<code>{}</code></span>', color_swatch(obj.color), obj.color
        )

    @admin.display(description="current spans", ordering="n_spans")
    def span_count(self, obj: Label) -> int:
        return obj.n_spans


# --- members -------------------------------------------------------------------------------


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = [ProjectFilter, "role"]
    list_select_related = ["user", "project"]
    search_fields = ["user__username", "user__email", "project__name", "project__slug"]
    autocomplete_fields = ["user", "project"]
    Media = AdminMedia

    def save_model(self, request, obj: Membership, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.role == Role.EDITOR:
            assign_articles(obj.project)
        else:
            hand_over_orphans(obj.project, by=request.user)

    def delete_model(self, request, obj: Membership) -> None:
        remove_member(obj.project, obj.user, by=request.user)

    def delete_queryset(self, request, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("project", "user"):
            remove_member(membership.project, membership.user, by=request.user)


# --- articles ------------------------------------------------------------------------------


class ArticleForm(forms.ModelForm):
    """Text is stored canonical (offsets index it), as on every other way in."""

    url = forms.URLField(max_length=2000, required=False, assume_scheme="https")

    class Meta:
        model = Article
        fields = ["project", "external_id", "title", "url", "published_at", "text", "meta"]

    def clean_text(self) -> str:
        try:
            text = canonicalize(self.cleaned_data["text"])
        except TextError as exc:
            raise ValidationError(str(exc))
        if not text.strip():
            raise ValidationError("The text is empty.")
        if len(text) > settings.MAX_ARTICLE_CHARS:
            raise ValidationError(
                f"The text has {len(text)} characters; the limit is "
                f"{settings.MAX_ARTICLE_CHARS} (MAX_ARTICLE_CHARS)."
            )
        return text

    def clean(self):
        data = super().clean()
        external_id = data.get("external_id")
        if "project" not in self.fields and self.instance.project_id and external_id:
            # The project is read-only here, so the model's unique check skips it.
            clash = Article.objects.filter(
                project_id=self.instance.project_id, external_id=external_id
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("external_id", "An article with this external id already exists.")
        return data


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ["article", "editor"]

    def clean(self):
        data = super().clean()
        article, editor = data.get("article"), data.get("editor")
        if article is not None and editor is not None and article.project_id:
            is_editor = Membership.objects.filter(
                project_id=article.project_id, user=editor, role=Role.EDITOR
            ).exists()
            if not is_editor:
                self.add_error("editor", f"{editor} is not an editor of {article.project}.")
        return data


class AssignmentInline(admin.TabularInline):
    model = Assignment
    form = AssignmentForm
    extra = 0
    fields = ["editor", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["editor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("editor")


class ArticleStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("unassigned", "Not assigned"),
            ("labelling", "Being labelled"),
            ("ready", "Ready for review"),
            ("adjudicating", "Gold in progress"),
            ("final", "Gold final"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "unassigned":
            return queryset.filter(n_assigned=0)
        if value == "labelling":
            return queryset.filter(n_assigned__gt=0, reviewable=False, gold_final__isnull=True)
        if value == "ready":
            return queryset.filter(reviewable=True, gold_final__isnull=True)
        if value == "adjudicating":
            return queryset.filter(gold_final=False)
        if value == "final":
            return queryset.filter(gold_final=True)
        return queryset


class EditorFilter(IdFilter):
    """Articles assigned to an editor; only users who have assignments are listed."""

    title = "editor"
    parameter_name = "editor"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(assignments__isnull=False).distinct()
        return list(users.order_by("username").values_list("pk", "username"))

    def queryset(self, request, queryset):
        if (pk := self.id_value()) is not None:
            assigned = Assignment.objects.filter(article=OuterRef("pk"), editor_id=pk)
            return queryset.filter(Exists(assigned))
        return queryset


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    form = ArticleForm
    list_display = [
        "__str__",
        "external_id",
        "project",
        "assigned",
        "submitted",
        "gold",
        "agreement",
        "length",
        "created_at",
    ]
    list_filter = [ProjectFilter, ArticleStatusFilter, EditorFilter, "created_at"]
    list_select_related = ["project"]
    search_fields = ["title", "external_id", "url"]
    date_hierarchy = "created_at"
    inlines = [AssignmentInline]
    actions = ["assign_to_editors"]
    change_form_template = "admin/annotate/change_form_spans.html"
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        submitted = Annotation.objects.submitted()
        gold = Annotation.objects.gold().filter(article=OuterRef("pk"), version__gt=0)
        # Ready for review as on the review page: the project's threshold (services.workflow).
        return with_readiness(super().get_queryset(request).defer("text")).annotate(
            n_assigned=count_of(Assignment.objects.all(), "article"),
            n_submitted=count_of(submitted, "article"),
            gold_final=Subquery(gold.values("final")[:1], output_field=BooleanField()),
            n_chars=Length("text"),
            agreement_score=Subquery(
                ArticleAgreement.objects.filter(article=OuterRef("pk"), unit="token").values(
                    "score"
                )[:1],
                output_field=FloatField(),
            ),
        )

    def get_fieldsets(self, request, obj=None):
        main = ["project", "external_id", "title", "url", "published_at"]
        if obj is None:
            return [(None, {"fields": [*main, "text", "meta"]})]
        # The raw text is only worth a glance once the highlighted views show it.
        text_classes = ["collapse"] if obj.is_annotated() else []
        return [
            (None, {"fields": main}),
            ("Annotations", {"fields": ["annotated_text"]}),
            ("Facts", {"fields": ["facts"]}),
            ("Text", {"fields": ["text", "sha256"], "classes": text_classes}),
            ("More", {"fields": ["meta", "created_by", "created_at"], "classes": ["collapse"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fixed = ["project", "sha256", "created_by", "created_at", "annotated_text", "facts"]
        # Offsets index the text: once anything points into it, it cannot change.
        return [*fixed, "text"] if obj.is_annotated() else fixed

    def save_model(self, request, obj: Article, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change:
            # A new article goes to editors like an imported one; the ones picked by hand
            # in the inline count towards the overlap.
            assign_articles(form.instance.project, [form.instance])

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["label_project"] = obj.project
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="agreement (α)", ordering="agreement_score")
    def agreement(self, obj: Article) -> str:
        """Krippendorff's alpha over the article's tokens (see the agreement report)."""
        return "—" if obj.agreement_score is None else f"{obj.agreement_score:.3f}"

    @admin.display(description="editors", ordering="n_assigned")
    def assigned(self, obj: Article) -> int:
        return obj.n_assigned

    @admin.display(description="submitted", ordering="n_submitted")
    def submitted(self, obj: Article) -> int:
        return obj.n_submitted

    @admin.display(description="gold", ordering="gold_final")
    def gold(self, obj: Article) -> str:
        if obj.gold_final is None:
            return "—"
        return "final" if obj.gold_final else "open for review"

    @admin.display(description="characters", ordering="n_chars")
    def length(self, obj: Article) -> int:
        return obj.n_chars

    @admin.display(description="text with spans")
    def annotated_text(self, obj: Article) -> SafeString:
        annotations = list(
            obj.annotations.filter(version__gt=0)
            .select_related("annotator")
            .order_by("kind", "annotator__username")
        )
        spans = spans_for_annotations(a.pk for a in annotations)
        views = [
            {
                "annotation": a,
                "url": reverse("admin:annotate_annotation_change", args=[a.pk]),
                "who": a.annotator.username if a.annotator_id else "Gold",
                "state": _state(a),
                "marks": marks_from_spans(spans.get(a.pk, [])),
            }
            for a in annotations
        ]
        return render_to_string(
            "admin/annotate/includes/article_annotations.html",
            {"text": obj.text, "views": views, "labels": list(obj.project.labels.all())},
        )

    @admin.display(description="figures")
    def facts(self, obj: Article) -> SafeString | str:
        """Each annotation's figures with their values and linked spans (the gold first),
        read-only like the spans."""
        tables = [
            (
                "Gold" if a.is_gold else a.annotator.username,
                _state(a),
                reverse("admin:annotate_annotation_change", args=[a.pk]),
                figures_table(a),
            )
            for a in sorted(
                obj.annotations.filter(version__gt=0).select_related("annotator", "article"),
                key=lambda a: (not a.is_gold, a.annotator.username if a.annotator_id else ""),
            )
        ]
        tables = [t for t in tables if t[3] != "—"]
        if not tables:
            return "—"
        return format_html_join(
            "",
            '<h3 class="figures-of"><a href="{2}">{0}</a> <span class="muted">{1}</span></h3>{3}',
            tables,
        )

    @admin.action(description="Assign to editors (up to the project's overlap)")
    def assign_to_editors(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        made = 0
        by_project: dict[int, list[Article]] = {}
        for article in queryset.select_related("project"):
            by_project.setdefault(article.project_id, []).append(article)
        for articles in by_project.values():
            made += assign_articles(articles[0].project, articles)
        level = messages.SUCCESS if made else messages.WARNING
        text = (
            f"Made {made} assignment{'s' if made != 1 else ''}."
            if made
            else "No assignments made: the articles are full, or the project has no editors."
        )
        self.message_user(request, text, level)


def _state(annotation: Annotation) -> str:
    return f"{annotation.state_label.lower()} · v{annotation.version}"


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    form = AssignmentForm
    list_display = ["article", "project", "editor", "annotation_status", "created_at"]
    list_filter = [type("ArticleProjectFilter", (ProjectFilter,), {"path": "article__project"})]
    list_select_related = ["article__project", "editor"]
    search_fields = ["article__title", "article__external_id", "editor__username"]
    autocomplete_fields = ["article", "editor"]
    Media = AdminMedia

    def get_list_filter(self, request):
        return [*self.list_filter, ("editor", admin.RelatedOnlyFieldListFilter), "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        own = Annotation.objects.editors().filter(
            article=OuterRef("article"), annotator=OuterRef("editor")
        )
        return (
            super()
            .get_queryset(request)
            .defer("article__text")
            .annotate(status=Subquery(own.filter(version__gt=0).values("status")[:1]))
        )

    @admin.display(description="project", ordering="article__project__name")
    def project(self, obj: Assignment) -> Project:
        return obj.article.project

    @admin.display(description="annotation", ordering="status")
    def annotation_status(self, obj: Assignment) -> str:
        return dict(Annotation.Status.choices).get(obj.status, "not started")
