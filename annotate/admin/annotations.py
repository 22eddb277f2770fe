"""Annotations, their versions and spans: read-only history, a diff view, and the gold
"final" / "reopen" actions, which write through the one annotation write path."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..highlight import Mark, marks_from_spans
from ..models import Annotation, AnnotationVersion, Relation, Span
from ..services.annotations import AnnotationError
from ..services.review import set_final
from ..versioning import SpanKey, describe, diff
from .common import (
    AdminMedia,
    LabelFilter,
    ProjectFilter,
    ReadOnlyAdminMixin,
    admin_link,
    attributes_text,
    count_of,
    highlighted,
    label_legend,
    label_tag,
    span_table,
)


def _who(annotation: Annotation) -> str:
    return annotation.annotator.username if annotation.annotator_id else "gold"


def _diff_url(annotation_id: int, old: int, new: int) -> str:
    url = reverse("admin:annotate_annotation_diff", args=[annotation_id])
    return f"{url}?from={old}&to={new}"


class AnnotationProjectFilter(ProjectFilter):
    path = "article__project"


class AnnotationLabelFilter(LabelFilter):
    """Annotations that currently have a span with the label."""

    def queryset(self, request, queryset):
        if (pk := self.id_value()) is not None:
            spans = Span.objects.filter(
                annotation=OuterRef("pk"), label_id=pk, removed_in__isnull=True
            )
            return queryset.filter(Exists(spans))
        return queryset


# --- inlines on the annotation page --------------------------------------------------------


class VersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The history, newest first."""

    model = AnnotationVersion
    extra = 0
    ordering = ["-number"]
    fields = ["number", "author", "created_at", "status", "final", "change", "note", "compare"]
    readonly_fields = fields
    show_change_link = True
    verbose_name = "version"
    verbose_name_plural = "history"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AnnotationVersion]:
        return super().get_queryset(request).select_related("author")

    @admin.display(description="change")
    def change(self, obj: AnnotationVersion) -> str:
        return describe(obj.summary or {})

    @admin.display(description="diff")
    def compare(self, obj: AnnotationVersion) -> SafeString:
        return format_html(
            '<a href="{}">v{} → v{}</a>',
            _diff_url(obj.annotation_id, obj.number - 1, obj.number),
            obj.number - 1,
            obj.number,
        )


class CurrentSpanInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The spans of the current version."""

    model = Span
    fk_name = "annotation"
    extra = 0
    fields = ["label_key", "start", "end", "text", "attributes_shown", "added_in", "source"]
    readonly_fields = fields
    verbose_name = "current span"
    verbose_name_plural = "current spans"
    classes = ["span-inline"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Span]:
        return (
            super()
            .get_queryset(request)
            .filter(removed_in__isnull=True)
            .select_related("label", "source__annotation__annotator")
            .order_by("start", "end", "label__order")
        )

    @admin.display(description="label")
    def label_key(self, obj: Span) -> SafeString:
        return label_tag(obj.label)

    @admin.display(description="attributes")
    def attributes_shown(self, obj: Span) -> str:
        return attributes_text(obj.attributes) or "—"


class CurrentRelationInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The relations of the current version, each end shown by its label and text."""

    model = Relation
    fk_name = "annotation"
    extra = 0
    fields = ["type_key", "from_span", "to_span", "added_in"]
    readonly_fields = fields
    verbose_name = "current relation"
    verbose_name_plural = "current relations"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Relation]:
        return (
            super()
            .get_queryset(request)
            .filter(removed_in__isnull=True)
            .select_related("type", "from_label", "to_label", "annotation__article")
            .order_by("from_start", "from_end", "to_start", "to_end", "type__key")
        )

    @admin.display(description="type")
    def type_key(self, obj: Relation) -> str:
        return obj.type.key

    @admin.display(description="from")
    def from_span(self, obj: Relation) -> SafeString:
        return _relation_end(obj, obj.from_label, obj.from_start, obj.from_end)

    @admin.display(description="to")
    def to_span(self, obj: Relation) -> SafeString:
        return _relation_end(obj, obj.to_label, obj.to_start, obj.to_end)


def _relation_end(relation: Relation, label, start: int, end: int) -> SafeString:
    text = relation.annotation.article.text[start:end]
    shown = text if len(text) <= 60 else text[:59] + "…"
    return format_html(
        '{} {} <span class="muted">{}–{}</span>', label_tag(label), shown, start, end
    )


def figures_table(annotation: Annotation) -> SafeString | str:
    """The annotation's figures (current spans whose label declares attributes) as a table:
    text, values, and the spans each relation type links them to. Read-only."""
    spans = list(
        annotation.spans.filter(removed_in__isnull=True, label__attributes__isnull=False)
        .distinct()
        .select_related("label")
        .order_by("start", "end")
    )
    if not spans:
        return "—"
    text = annotation.article.text
    linked: dict[tuple[int, int, int], dict[str, list[str]]] = {}
    for relation in (
        Relation.objects.filter(annotation=annotation)
        .current()
        .select_related("type")
        .order_by("type__order", "to_start")
    ):
        ends = (relation.from_start, relation.from_end, relation.from_label_id)
        shown = text[relation.to_start : relation.to_end]
        linked.setdefault(ends, {}).setdefault(relation.type.key, []).append(shown)
    rows = [
        (
            label_tag(span.label),
            span.text if len(span.text) <= 80 else span.text[:79] + "…",
            attributes_text(span.attributes) or "—",
            "; ".join(
                f"{kind} → {', '.join(others)}"
                for kind, others in linked.get((span.start, span.end, span.label_id), {}).items()
            )
            or "—",
        )
        for span in spans
    ]
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        '<table class="figures"><thead><tr><th scope="col">Label</th><th scope="col">Figure'
        '</th><th scope="col">Values</th><th scope="col">Linked spans</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        body,
    )


# --- annotations ---------------------------------------------------------------------------


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    """Read-only: spans, status and finality change only through save_annotation (the
    labelling and review pages, the API, and the actions here)."""

    list_display = [
        "article_title",
        "project",
        "who",
        "state",
        "version",
        "span_count",
        "updated_at",
    ]
    list_filter = [
        "kind",
        "status",
        "final",
        AnnotationProjectFilter,
        ("annotator", admin.RelatedOnlyFieldListFilter),
        AnnotationLabelFilter,
        "updated_at",
    ]
    list_select_related = ["article__project", "annotator"]
    search_fields = ["article__title", "article__external_id", "annotator__username"]
    date_hierarchy = "updated_at"
    fields = [
        "article_link",
        "kind",
        "annotator",
        "status",
        "final",
        "version",
        "updated_at",
        "current_text",
        "figures",
    ]
    readonly_fields = fields
    inlines = [CurrentSpanInline, CurrentRelationInline, VersionInline]
    actions = ["mark_final", "reopen"]
    change_form_template = "admin/annotate/change_form_spans.html"
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Annotation]:
        current = Span.objects.filter(removed_in__isnull=True)
        return (
            super()
            .get_queryset(request)
            .defer("article__text")
            .annotate(n_spans=count_of(current, "annotation"))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_adjudicate_permission(self, request: HttpRequest) -> bool:
        # Who may write the gold of which article is decided by save_annotation.
        return request.user.is_active and request.user.is_staff

    def get_urls(self):
        diff_view = self.admin_site.admin_view(self.diff_view)
        return [
            path("<int:pk>/diff/", diff_view, name="annotate_annotation_diff"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["label_project"] = obj.article.project
            if obj.version:
                context["extra_object_tools"] = [
                    {"url": _diff_url(obj.pk, 0, obj.version), "title": "Compare versions"}
                ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="article", ordering="article__title")
    def article_title(self, obj: Annotation) -> str:
        return str(obj.article)

    @admin.display(description="article")
    def article_link(self, obj: Annotation) -> SafeString | str:
        return admin_link(obj.article)

    @admin.display(description="project", ordering="article__project__name")
    def project(self, obj: Annotation) -> str:
        return obj.article.project.name

    @admin.display(description="editor", ordering="annotator__username")
    def who(self, obj: Annotation) -> str:
        return _who(obj)

    @admin.display(description="spans", ordering="n_spans")
    def span_count(self, obj: Annotation) -> int:
        return obj.n_spans

    @admin.display(description="state", ordering="status")
    def state(self, obj: Annotation) -> str:
        return obj.state_label

    @admin.display(description="text with the current spans")
    @admin.display(description="figures")
    def figures(self, obj: Annotation) -> SafeString | str:
        return figures_table(obj)

    def current_text(self, obj: Annotation) -> SafeString:
        spans = list(obj.current_spans())
        return format_html(
            "{}{}", label_legend(obj.article.project), highlighted(obj.article.text, spans)
        )

    @admin.action(description="Mark gold final", permissions=["adjudicate"])
    def mark_final(self, request: HttpRequest, queryset: QuerySet[Annotation]) -> None:
        self._set_final(request, queryset, final=True)

    @admin.action(description="Reopen gold", permissions=["adjudicate"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[Annotation]) -> None:
        self._set_final(request, queryset, final=False)

    def _set_final(self, request: HttpRequest, queryset: QuerySet[Annotation], *, final: bool):
        """A new gold version with the same spans and the new flag, one per annotation."""
        done, problems = 0, []
        selected = queryset.select_related("article__project")
        skipped = sum(1 for a in selected if not a.is_gold)
        for annotation in selected:
            if not annotation.is_gold or annotation.final == final:
                continue
            try:
                # The review service records which editor versions the decision used.
                result = set_final(
                    annotation.article,
                    request.user,
                    role=annotation.article.project.role_of(request.user),
                    final=final,
                    base_version=annotation.version,
                    note="Marked final in the admin" if final else "Reopened in the admin",
                )
            except AnnotationError as exc:
                problems.append(f"{annotation.article}: {exc.detail}")
                continue
            done += bool(result.created)
        verb = "marked final" if final else "reopened"
        if done:
            self.message_user(request, f"{done} gold annotation(s) {verb}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} editor annotation(s) skipped: only gold annotations can be final.",
                messages.WARNING,
            )
        for problem in problems:
            self.message_user(request, problem, messages.ERROR)
        if not (done or skipped or problems):
            self.message_user(request, f"Nothing to do: already {verb}.", messages.INFO)

    def diff_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        annotation = (
            Annotation.objects.select_related("article__project", "annotator").filter(pk=pk).first()
        )
        if annotation is None:
            raise Http404("No such annotation.")
        if not self.has_view_permission(request, annotation):
            raise PermissionDenied
        latest = annotation.version
        try:
            new = int(request.GET.get("to", latest))
            old = int(request.GET.get("from", max(new - 1, 0)))
        except ValueError:
            return HttpResponseBadRequest("from and to must be version numbers.")
        if not (0 <= old <= latest and 0 <= new <= latest):
            return HttpResponseBadRequest(f"Versions run from 0 (empty) to {latest}.")
        comparison = compare_versions(annotation, old, new)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Compare versions of {annotation}",
            "annotation": annotation,
            "who": _who(annotation),
            "project": annotation.article.project,
            "versions": list(annotation.versions.select_related("author").order_by("number")),
            "old": old,
            "new": new,
            "comparison": comparison,
            "text": highlighted(annotation.article.text, [], marks=comparison.marks),
            "legend": label_legend(annotation.article.project),
            "media": self.media,
        }
        return render(request, "admin/annotate/annotation/diff.html", context)


@dataclass
class Comparison:
    added: list[Span]
    removed: list[Span]
    kept: int
    relabelled: list[tuple[SpanKey, SpanKey]]
    marks: list[Mark]


def compare_versions(annotation: Annotation, old: int, new: int) -> Comparison:
    """The spans added and removed between two versions, and marks that show both on the
    text (removed spans struck through, added ones outlined)."""
    before = {_key(s): s for s in annotation.spans_at(old)} if old else {}
    after = {_key(s): s for s in annotation.spans_at(new)} if new else {}
    change = diff(frozenset(before), frozenset(after))

    def status(span: Span) -> list[str]:
        key = _key(span)
        if key in change.added:
            return ["diff-added"]
        if key in change.removed:
            return ["diff-removed"]
        return ["diff-same"]

    union = list({**before, **after}.values())
    return Comparison(
        added=sorted((after[k] for k in change.added), key=_order),
        removed=sorted((before[k] for k in change.removed), key=_order),
        kept=len(before.keys() & after.keys()),
        relabelled=change.relabelled,
        marks=marks_from_spans(union, classes_for=status),
    )


def _key(span: Span) -> SpanKey:
    return SpanKey(span.start, span.end, span.label.key)


def _order(span: Span) -> tuple[int, int, str]:
    return (span.start, span.end, span.label.key)


# --- versions and spans --------------------------------------------------------------------


class VersionProjectFilter(ProjectFilter):
    path = "annotation__article__project"


@admin.register(AnnotationVersion)
class AnnotationVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "version",
        "article",
        "who",
        "author",
        "created_at",
        "state",
        "change",
        "span_count",
        "compare",
    ]
    list_filter = [
        ("author", admin.RelatedOnlyFieldListFilter),
        "created_at",
        VersionProjectFilter,
        "annotation__kind",
        "status",
        "final",
    ]
    list_select_related = ["annotation__article__project", "annotation__annotator", "author"]
    search_fields = [
        "annotation__article__title",
        "annotation__article__external_id",
        "author__username",
        "note",
    ]
    date_hierarchy = "created_at"
    fields = [
        "annotation_link",
        "number",
        "author",
        "created_at",
        "status",
        "final",
        "change",
        "note",
        "span_count",
        "restored_from",
        "request_key",
        "version_text",
        "version_spans",
        "version_relations",
    ]
    readonly_fields = fields
    change_form_template = "admin/annotate/change_form_spans.html"
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[AnnotationVersion]:
        return super().get_queryset(request).defer("annotation__article__text")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["label_project"] = obj.annotation.article.project
            context["extra_object_tools"] = [
                {
                    "url": _diff_url(obj.annotation_id, obj.number - 1, obj.number),
                    "title": "Diff with previous",
                }
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="version", ordering="number")
    def version(self, obj: AnnotationVersion) -> str:
        return f"v{obj.number}"

    @admin.display(description="article", ordering="annotation__article__title")
    def article(self, obj: AnnotationVersion) -> str:
        return str(obj.annotation.article)

    @admin.display(description="annotation of", ordering="annotation__annotator__username")
    def who(self, obj: AnnotationVersion) -> str:
        return _who(obj.annotation)

    @admin.display(description="state", ordering="status")
    def state(self, obj: AnnotationVersion) -> str:
        if obj.annotation.is_gold:
            return "Final" if obj.final else "Open for review"
        return obj.get_status_display()

    @admin.display(description="annotation")
    def annotation_link(self, obj: AnnotationVersion) -> SafeString | str:
        return admin_link(obj.annotation)

    @admin.display(description="change")
    def change(self, obj: AnnotationVersion) -> str:
        return describe(obj.summary or {})

    @admin.display(description="diff")
    def compare(self, obj: AnnotationVersion) -> SafeString:
        return format_html(
            '<a href="{}">v{} → v{}</a>',
            _diff_url(obj.annotation_id, obj.number - 1, obj.number),
            obj.number - 1,
            obj.number,
        )

    @admin.display(description="text at this version")
    def version_text(self, obj: AnnotationVersion) -> SafeString:
        spans = list(obj.annotation.spans_at(obj.number))
        return format_html(
            "{}{}",
            label_legend(obj.annotation.article.project),
            highlighted(obj.annotation.article.text, spans),
        )

    @admin.display(description="spans at this version")
    def version_spans(self, obj: AnnotationVersion) -> SafeString:
        spans = list(obj.annotation.spans_at(obj.number))

        def row_class(span: Span) -> str:
            return "span-new" if span.added_in == obj.number else ""

        return span_table(spans, classes_for=row_class)

    @admin.display(description="relations at this version")
    def version_relations(self, obj: AnnotationVersion) -> SafeString:
        relations = (
            Relation.objects.filter(annotation=obj.annotation)
            .at(obj.number)
            .select_related("type", "from_label", "to_label")
            .order_by("from_start", "from_end", "to_start", "to_end", "type__key")
        )
        text = obj.annotation.article.text
        rows = [
            (
                text[r.from_start : r.from_end],
                label_tag(r.from_label),
                text[r.to_start : r.to_end],
                label_tag(r.to_label),
                r.type.key,
                ", new" if r.added_in == obj.number else "",
            )
            for r in relations
        ]
        if not rows:
            return format_html('<span class="muted">{}</span>', "No relations.")
        items = format_html_join(
            "", '<li>{} {} → {} {} <span class="muted">({}{})</span></li>', rows
        )
        return format_html('<ul class="relation-list">{}</ul>', items)


class SpanProjectFilter(ProjectFilter):
    path = "annotation__article__project"


class CurrentFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("current", "Current"), ("removed", "Removed in a later version")]

    def queryset(self, request, queryset):
        if self.value() == "current":
            return queryset.filter(removed_in__isnull=True)
        if self.value() == "removed":
            return queryset.filter(removed_in__isnull=False)
        return queryset


@admin.register(Span)
class SpanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "label_key",
        "span_text",
        "start",
        "end",
        "article",
        "who",
        "added_in",
        "removed_in",
    ]
    list_filter = [
        LabelFilter,
        SpanProjectFilter,
        CurrentFilter,
        "annotation__kind",
        ("annotation__annotator", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["label", "annotation__article__project", "annotation__annotator"]
    search_fields = ["text", "annotation__article__title", "annotation__article__external_id"]
    fields = [
        "annotation_link",
        "label_key",
        "start",
        "end",
        "text",
        "attributes_shown",
        "added_in",
        "removed_in",
        "source_link",
        "in_context",
    ]
    readonly_fields = fields
    change_form_template = "admin/annotate/change_form_spans.html"
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Span]:
        return super().get_queryset(request).defer("annotation__article__text")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["label_project"] = obj.annotation.article.project
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="label", ordering="label__key")
    def label_key(self, obj: Span) -> SafeString:
        return label_tag(obj.label)

    @admin.display(description="attributes")
    def attributes_shown(self, obj: Span) -> str:
        return attributes_text(obj.attributes) or "—"

    @admin.display(description="text", ordering="text")
    def span_text(self, obj: Span) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"

    @admin.display(description="article", ordering="annotation__article__title")
    def article(self, obj: Span) -> str:
        return str(obj.annotation.article)

    @admin.display(description="annotation of", ordering="annotation__annotator__username")
    def who(self, obj: Span) -> str:
        return _who(obj.annotation)

    @admin.display(description="annotation")
    def annotation_link(self, obj: Span) -> SafeString | str:
        return admin_link(obj.annotation)

    @admin.display(description="accepted from")
    def source_link(self, obj: Span) -> SafeString | str:
        return admin_link(obj.source) if obj.source_id else "—"

    @admin.display(description="in context")
    def in_context(self, obj: Span) -> SafeString:
        return highlighted(obj.annotation.article.text, [obj])
