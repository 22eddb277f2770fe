"""The manager's schema page: each label's typed attributes and the project's relation
types, with forms to add, change and remove them.

Every form is a plain form post to a real URL (no JavaScript needed: success redirects to
the page, a refusal re-renders it with the messages and a 4xx status). With htmx, links and
forms swap the ``#schema`` section in place (``schema/schema.html#schema``). Writes go
through services.schema, as the API's do, so the rules cannot drift apart.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from ..facts.schema import MAX_CHOICE_CHARS, MAX_CHOICES, MAX_INTEGER, MIN_INTEGER, AttributeSpec
from ..inputs import InputError, parse_optional_int
from ..models import AttributeDefinition, Label, Project, RelationType
from ..permissions import can_manage, project_for
from ..services import schema
from ..services.annotations import AnnotationError

TEMPLATE = "schema/schema.html"
GET_POST = require_http_methods(["GET", "POST"])


# Access


def _managed_project(request: HttpRequest, slug: str) -> Project:
    """The project, if the user manages it: 404 for outsiders, 403 for other members."""
    project, role = project_for(request.user, slug)
    if not can_manage(role):
        raise PermissionDenied("Only the project's managers change its schema.")
    return project


def _attribute(project: Project, attribute_id: int) -> AttributeDefinition:
    found = (
        AttributeDefinition.objects.select_related("label__project")
        .filter(pk=attribute_id, label__project=project)
        .first()
    )
    if found is None:
        raise Http404("No such attribute in this project.")
    return found


def _relation_type(project: Project, relation_type_id: int) -> RelationType:
    found = RelationType.objects.filter(pk=relation_type_id, project=project).first()
    if found is None:
        raise Http404("No such relation type in this project.")
    return found


# Forms: shapes only; the rules are services.schema's


class _OrderField(forms.Field):
    widget = forms.TextInput

    def __init__(self) -> None:
        super().__init__(
            required=False, help_text="Position in the list (0 first); empty: at the end."
        )

    def to_python(self, value: object) -> int | None:
        text = value.strip() if isinstance(value, str) else value
        try:
            return parse_optional_int(text, name="order", high=schema.MAX_ORDER)
        except InputError as error:
            raise forms.ValidationError(str(error)) from None


class AttributeForm(forms.Form):
    key = forms.CharField(
        max_length=32, help_text="a-z, digits and _, starting with a letter: kind, low, high."
    )
    name = forms.CharField(max_length=schema.MAX_NAME_CHARS)
    type = forms.ChoiceField(choices=AttributeDefinition.Type.choices)
    choices = forms.CharField(
        required=False,
        max_length=MAX_CHOICES * (MAX_CHOICE_CHARS + 2),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Choice attributes only: one choice per line.",
    )
    min = forms.CharField(
        required=False,
        max_length=20,
        label="Minimum",
        help_text="Integer attributes only; empty: no minimum.",
    )
    required = forms.BooleanField(
        required=False, help_text="Needed to submit an annotation or make the gold final."
    )
    order = _OrderField()

    def clean_choices(self) -> tuple[str, ...]:
        lines = (line.strip() for line in self.cleaned_data["choices"].splitlines())
        return tuple(line for line in lines if line)

    def clean_min(self) -> int | None:
        try:
            return parse_optional_int(
                self.cleaned_data["min"].strip(), name="min", low=MIN_INTEGER, high=MAX_INTEGER
            )
        except InputError as error:
            raise forms.ValidationError(str(error)) from None

    def spec(self) -> AttributeSpec:
        data = self.cleaned_data
        return AttributeSpec(
            key=data["key"],
            name=data["name"],
            type=data["type"],
            choices=data["choices"],
            min=data["min"],
            required=data["required"],
        )

    @classmethod
    def of(cls, attribute: AttributeDefinition) -> AttributeForm:
        return cls(
            initial={
                "key": attribute.key,
                "name": attribute.name,
                "type": attribute.type,
                "choices": "\n".join(attribute.choices or ()),
                "min": "" if attribute.min is None else str(attribute.min),
                "required": attribute.required,
                "order": str(attribute.order),
            }
        )


class RelationTypeForm(forms.Form):
    key = forms.CharField(
        max_length=32, help_text="A-Z, digits and _, starting with a letter: SAID_BY."
    )
    name = forms.CharField(max_length=schema.MAX_NAME_CHARS)
    from_labels = forms.MultipleChoiceField(
        required=False,
        label="From labels",
        widget=forms.CheckboxSelectMultiple,
        help_text="The labels a relation may start from; none ticked: any label.",
    )
    to_labels = forms.MultipleChoiceField(
        required=False,
        label="To labels",
        widget=forms.CheckboxSelectMultiple,
        help_text="The labels a relation may end at; none ticked: any label.",
    )
    order = _OrderField()

    def __init__(self, *args, labels: list[Label], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(label.key, f"{label.name} ({label.key})") for label in labels]
        self.fields["from_labels"].choices = choices
        self.fields["to_labels"].choices = choices

    def relation(self) -> schema.RelationTypeInput:
        data = self.cleaned_data
        return schema.RelationTypeInput(
            data["key"], data["name"], tuple(data["from_labels"]), tuple(data["to_labels"])
        )

    @classmethod
    def of(cls, relation_type: RelationType, labels: list[Label]) -> RelationTypeForm:
        return cls(
            labels=labels,
            initial={
                "key": relation_type.key,
                "name": relation_type.name,
                "from_labels": [label.key for label in relation_type.from_labels.all()],
                "to_labels": [label.key for label in relation_type.to_labels.all()],
                "order": str(relation_type.order),
            },
        )


def _add_errors(form: forms.Form, error: AnnotationError) -> None:
    """The service's per-field messages on the form's fields (the rest above the form)."""
    fields = error.errors if isinstance(error.errors, dict) else {}
    shown = False
    for field, problems in fields.items():
        if field in form.fields:
            for problem in problems:
                form.add_error(field, problem)
            shown = True
    if not shown:
        form.add_error(None, error.detail)


# Rendering


def _labels(project: Project) -> list[Label]:
    return list(
        Label.objects.filter(project=project)
        .prefetch_related(
            Prefetch("attributes", queryset=AttributeDefinition.objects.order_by("order", "key"))
        )
        .order_by("order", "key")
    )


def _page(
    request: HttpRequest, project: Project, *, status: int = 200, **panel: object
) -> HttpResponse:
    """The page (or, for htmx, the #schema section) with `panel` (a form, a confirmation)
    open beside the lists."""
    relation_types = (
        RelationType.objects.filter(project=project)
        .prefetch_related("from_labels", "to_labels")
        .order_by("order", "key")
    )
    context = {
        "project": project,
        "labels": _labels(project),
        "relation_types": list(relation_types),
        "done": panel.pop("done", ""),
        "panel": panel,
    }
    template = f"{TEMPLATE}#schema" if request.htmx else TEMPLATE
    return render(request, template, context, status=status)


def _done(request: HttpRequest, project: Project, message: str) -> HttpResponse:
    """After a write: the refreshed section for htmx, a redirect to the page otherwise."""
    if request.htmx:
        response = _page(request, project, done=message)
        response["HX-Push-Url"] = reverse("project-schema", args=[project.slug])
        return response
    messages.success(request, message)
    return redirect("project-schema", slug=project.slug)


# Views


@login_required
@require_GET
@vary_on_headers("HX-Request")
def schema_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _managed_project(request, slug))


@login_required
@GET_POST
@vary_on_headers("HX-Request")
def attribute_add(request: HttpRequest, slug: str, label_key: str) -> HttpResponse:
    project = _managed_project(request, slug)
    label = Label.objects.filter(project=project, key=label_key).first()
    if label is None:
        raise Http404("No such label in this project.")
    action = reverse("schema-attribute-add", args=[project.slug, label.key])
    if request.method == "GET":
        return _page(request, project, form=AttributeForm(), label=label, action=action)
    form = AttributeForm(request.POST)
    if form.is_valid():
        try:
            attribute = schema.save_attribute(
                label=label, spec=form.spec(), order=form.cleaned_data["order"]
            )
        except AnnotationError as error:
            _add_errors(form, error)
        else:
            return _done(request, project, f"Attribute {attribute.key} added to {label.key}.")
    return _page(request, project, form=form, label=label, action=action, status=400)


@login_required
@GET_POST
@vary_on_headers("HX-Request")
def attribute_edit(request: HttpRequest, slug: str, attribute_id: int) -> HttpResponse:
    project = _managed_project(request, slug)
    attribute = _attribute(project, attribute_id)
    context = {
        "label": attribute.label,
        "attribute": attribute,
        "action": reverse("schema-attribute", args=[project.slug, attribute.pk]),
        "used": schema.attribute_usage(attribute),
    }
    if request.method == "GET":
        return _page(request, project, form=AttributeForm.of(attribute), **context)
    form = AttributeForm(request.POST)
    if form.is_valid():
        try:
            schema.save_attribute(
                label=attribute.label,
                spec=form.spec(),
                order=form.cleaned_data["order"],
                attribute=attribute,
            )
        except AnnotationError as error:
            _add_errors(form, error)
        else:
            return _done(
                request, project, f"Attribute {attribute.label.key}.{form.spec().key} saved."
            )
    return _page(request, project, form=form, status=400, **context)


@login_required
@GET_POST
@vary_on_headers("HX-Request")
def attribute_remove(request: HttpRequest, slug: str, attribute_id: int) -> HttpResponse:
    project = _managed_project(request, slug)
    attribute = _attribute(project, attribute_id)
    context = {
        "remove_attribute": attribute,
        "used": schema.attribute_usage(attribute),
        "action": reverse("schema-attribute-remove", args=[project.slug, attribute.pk]),
    }
    if request.method == "GET":
        return _page(request, project, **context)
    if request.POST.get("confirm") != "yes":
        return _page(
            request, project, refused="Tick the box to confirm the removal.", status=400, **context
        )
    used = schema.remove_attribute(attribute=attribute)
    kept = f" The values of {used} span{'s' if used != 1 else ''} stay stored." if used else ""
    return _done(request, project, f"Attribute {attribute} removed.{kept}")


@login_required
@GET_POST
@vary_on_headers("HX-Request")
def relation_type_add(request: HttpRequest, slug: str) -> HttpResponse:
    project = _managed_project(request, slug)
    labels = list(Label.objects.filter(project=project).order_by("order", "key"))
    action = reverse("schema-relation-type-add", args=[project.slug])
    if request.method == "GET":
        return _page(request, project, relation_form=RelationTypeForm(labels=labels), action=action)
    form = RelationTypeForm(request.POST, labels=labels)
    if form.is_valid():
        try:
            relation_type = schema.save_relation_type(
                project=project, relation=form.relation(), order=form.cleaned_data["order"]
            )
        except AnnotationError as error:
            _add_errors(form, error)
        else:
            return _done(request, project, f"Relation type {relation_type.key} added.")
    return _page(request, project, relation_form=form, action=action, status=400)


@login_required
@GET_POST
@vary_on_headers("HX-Request")
def relation_type_edit(request: HttpRequest, slug: str, relation_type_id: int) -> HttpResponse:
    project = _managed_project(request, slug)
    relation_type = _relation_type(project, relation_type_id)
    labels = list(Label.objects.filter(project=project).order_by("order", "key"))
    context = {
        "relation_type": relation_type,
        "action": reverse("schema-relation-type", args=[project.slug, relation_type.pk]),
        "used": schema.relation_type_usage(relation_type),
    }
    if request.method == "GET":
        form = RelationTypeForm.of(relation_type, labels)
        return _page(request, project, relation_form=form, **context)
    form = RelationTypeForm(request.POST, labels=labels)
    if form.is_valid():
        try:
            schema.save_relation_type(
                project=project,
                relation=form.relation(),
                order=form.cleaned_data["order"],
                relation_type=relation_type,
            )
        except AnnotationError as error:
            _add_errors(form, error)
        else:
            return _done(request, project, f"Relation type {form.relation().key} saved.")
    return _page(request, project, relation_form=form, status=400, **context)


@login_required
@GET_POST
@vary_on_headers("HX-Request")
def relation_type_remove(request: HttpRequest, slug: str, relation_type_id: int) -> HttpResponse:
    project = _managed_project(request, slug)
    relation_type = _relation_type(project, relation_type_id)
    context = {
        "remove_relation_type": relation_type,
        "used": schema.relation_type_usage(relation_type),
        "action": reverse("schema-relation-type-remove", args=[project.slug, relation_type.pk]),
    }
    if request.method == "GET":
        return _page(request, project, **context)
    try:
        schema.remove_relation_type(relation_type=relation_type)
    except AnnotationError as error:
        return _page(request, project, refused=error.detail, status=error.status, **context)
    return _done(request, project, f"Relation type {relation_type.key} removed.")


urlpatterns = [
    path("projects/<slug:slug>/schema/", schema_page, name="project-schema"),
    path(
        "projects/<slug:slug>/schema/labels/<str:label_key>/attributes/new/",
        attribute_add,
        name="schema-attribute-add",
    ),
    path(
        "projects/<slug:slug>/schema/attributes/<int:attribute_id>/",
        attribute_edit,
        name="schema-attribute",
    ),
    path(
        "projects/<slug:slug>/schema/attributes/<int:attribute_id>/remove/",
        attribute_remove,
        name="schema-attribute-remove",
    ),
    path(
        "projects/<slug:slug>/schema/relation-types/new/",
        relation_type_add,
        name="schema-relation-type-add",
    ),
    path(
        "projects/<slug:slug>/schema/relation-types/<int:relation_type_id>/",
        relation_type_edit,
        name="schema-relation-type",
    ),
    path(
        "projects/<slug:slug>/schema/relation-types/<int:relation_type_id>/remove/",
        relation_type_remove,
        name="schema-relation-type-remove",
    ),
]
