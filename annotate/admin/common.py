"""What the model admins share: label swatches, highlighted text, counts without N+1."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import quote

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..highlight import Mark, marks_from_spans
from ..inputs import InputError, parse_id
from ..models import COLOR_RE, Label, Project

FALLBACK_COLOR = "#e1e4e8"


class AdminMedia:
    css = {"all": ["css/admin.css"]}


def count_of(queryset: QuerySet, field: str) -> Coalesce:
    """A correlated COUNT: unlike Count() over a join, filters on other relations cannot
    multiply it."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def color_swatch(color: str) -> SafeString:
    """A coloured square as a data: image, so no style attribute is needed (CSP)."""
    if not re.fullmatch(COLOR_RE, color or ""):
        color = FALLBACK_COLOR
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='14' height='14'>"
        f"<rect x='.5' y='.5' width='13' height='13' rx='3' fill='{color}' stroke='#57606a'/>"
        "</svg>"
    )
    return format_html(
        '<img class="swatch" src="data:image/svg+xml,{}" width="14" height="14" alt="">',
        quote(svg, safe=""),
    )


def label_tag(label: Label | None) -> SafeString:
    if label is None:
        return format_html("<span class='muted'>—</span>")
    return format_html(
        '<span class="label-tag">{}<span class="label-key">{}</span></span>',
        color_swatch(label.color),
        label.key,
    )


def admin_link(obj: Model | None, text: object = None) -> SafeString | str:
    if obj is None:
        return "—"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if text is None else text)


def highlighted(
    text: str,
    spans: Sequence,
    *,
    classes_for: Callable[[object], Iterable[str]] | None = None,
    marks: Sequence[Mark] | None = None,
) -> SafeString:
    """The article text with the spans highlighted (colours from the project's label
    stylesheet, which the page includes)."""
    if marks is None:
        marks = marks_from_spans(spans, classes_for=classes_for)
    return render_to_string(
        "admin/annotate/includes/highlighted.html", {"text": text, "marks": marks}
    )


def span_table(spans: Sequence, *, classes_for: Callable[[object], str] | None = None):
    rows = [
        (span, classes_for(span) if classes_for else "", attributes_text(span.attributes))
        for span in spans
    ]
    return render_to_string("admin/annotate/includes/span_table.html", {"rows": rows})


def attributes_text(attributes: Mapping[str, object] | None) -> str:
    """A span's attribute values for reading, by key (PostgreSQL's jsonb keeps no key
    order): ``exact: yes · kind: killed · low: 6``."""
    return " · ".join(
        f"{key}: {('yes' if value else 'no') if isinstance(value, bool) else value}"
        for key, value in sorted((attributes or {}).items())
    )


def label_legend(project: Project) -> SafeString:
    return render_to_string(
        "admin/annotate/includes/legend.html", {"labels": list(project.labels.all())}
    )


class ReadOnlyAdminMixin:
    """History is immutable: nobody adds, changes or deletes it here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class IdFilter(admin.SimpleListFilter):
    """A filter whose value is a primary key; anything else is a bad lookup (the admin
    then shows the unfiltered list with a notice), not a server error."""

    def id_value(self) -> int | None:
        value = self.value()
        if value in (None, ""):
            return None
        try:
            return parse_id(value, name=str(self.title))
        except InputError:
            raise IncorrectLookupParameters(f"{self.title}: {value!r} is not an id") from None


class ProjectFilter(IdFilter):
    """Projects by name; subclasses say which path leads to the project."""

    title = "project"
    parameter_name = "project"
    path = "project"

    def lookups(self, request, model_admin):
        return list(Project.objects.order_by("name").values_list("pk", "name"))

    def queryset(self, request, queryset):
        if (pk := self.id_value()) is not None:
            return queryset.filter(**{f"{self.path}__pk": pk})
        return queryset


class LabelFilter(IdFilter):
    """Labels as "KEY · project" in one query."""

    title = "label"
    parameter_name = "label"
    path = "label"

    def lookups(self, request, model_admin):
        labels = Label.objects.select_related("project").order_by("project__name", "order", "key")
        return [(label.pk, f"{label.key} · {label.project.name}") for label in labels]

    def queryset(self, request, queryset):
        if (pk := self.id_value()) is not None:
            return queryset.filter(**{f"{self.path}__pk": pk}).distinct()
        return queryset
