"""Adding articles from the browser: paste one, or upload a file.

Managers import anything; editors, where the project allows it, add one article at a time
and find it in their own queue. Plain form posts (no JavaScript needed), redirect after
success, and the same write path as the command and the API (services.importing).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from ..article_parsing import Issue, human_bytes
from ..models import Job, Project, Role
from ..permissions import project_for
from ..services.annotations import AnnotationError
from ..services.assignment import project_editors
from ..services.importing import (
    ImportResult,
    ImportTooLarge,
    InvalidImport,
    can_import,
    import_pasted,
    upload_limits,
)
from ..services.importing import import_articles as import_records
from ..services.jobs import import_is_large, parse_import, start_import
from .jobs import job_url

MAX_SHOWN_ERRORS = 100
UPLOAD_TYPES = ".txt,.jsonl,.ndjson,.json,text/plain,application/json,application/x-ndjson"


class PasteForm(forms.Form):
    title = forms.CharField(max_length=500, required=False)
    external_id = forms.CharField(
        label="External id",
        max_length=200,
        required=False,
        help_text="Your id for the article. Left empty, one is made from the text.",
    )
    url = forms.CharField(label="URL", max_length=2000, required=False)
    text = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 14, "dir": "auto"}))


class UploadForm(forms.Form):
    file = forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_TYPES}))


class CappedUploadHandler(FileUploadHandler):
    """Stops reading a file past the upload cap, so an oversized upload is refused without
    being buffered to disk first; the other fields (the CSRF token) are still read."""

    def __init__(self, request: HttpRequest, cap: int):
        super().__init__(request)
        self.cap = cap
        self.received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.cap:
            self.request.upload_too_large = True  # type: ignore[union-attr]
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@csrf_exempt  # only so the upload handlers can be set first; _import_page checks CSRF
@login_required
def import_articles(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_for(request.user, slug)
    if not can_import(project, role):
        raise PermissionDenied("You cannot add articles to this project.")
    if request.method == "POST":
        request.upload_handlers.insert(0, CappedUploadHandler(request, settings.MAX_UPLOAD_BYTES))
        try:
            request.POST  # noqa: B018 - parse now, to catch an oversized body here
        except RequestDataTooBig:
            return _page(request, project, role, errors=[_too_large_issue()], status=413)
    return _import_page(request, project, role)


@csrf_protect
def _import_page(request: HttpRequest, project: Project, role: str) -> HttpResponse:
    if request.method != "POST":
        return _page(request, project, role)
    mode = request.POST.get("mode")
    paste = PasteForm(request.POST if mode == "paste" else None)
    upload = UploadForm(request.POST, request.FILES) if mode == "upload" else UploadForm()
    bound = {"paste": paste, "upload": upload}
    source = ""
    try:
        if mode == "paste":
            if not paste.is_valid():
                return _page(request, project, role, **bound, status=400)
            result = import_pasted(
                project=project, user=request.user, role=role, **paste.cleaned_data
            )
        elif mode == "upload":
            if getattr(request, "upload_too_large", False):
                raise ImportTooLarge([_too_large_issue()])
            if not upload.is_valid():
                return _page(request, project, role, **bound, status=400)
            file = upload.cleaned_data["file"]
            source = file.name
            if file.size > settings.MAX_UPLOAD_BYTES:
                raise ImportTooLarge([_too_large_issue()])
            data = file.read()
            records = parse_import(project=project, role=role, data=data, name=file.name)
            if import_is_large(len(records)):
                job = start_import(
                    project=project,
                    user=request.user,
                    data=data,
                    count=len(records),
                    name=file.name,
                    format="auto",
                )
                return redirect(job_url(job))
            result = import_records(project=project, records=records, user=request.user)
        else:
            raise InvalidImport([Issue("paste an article or choose a file to upload")])
    except AnnotationError as exc:
        errors = exc.issues if isinstance(exc, InvalidImport) else [Issue(exc.detail)]
        return _page(
            request, project, role, **bound, errors=errors, source=source, status=exc.status
        )
    _report(request, project, result)
    if role == Role.EDITOR:
        return redirect("home")  # where their queue is
    return redirect(reverse("import-articles", args=[project.slug]))


def _page(
    request: HttpRequest,
    project: Project,
    role: str,
    *,
    paste: PasteForm | None = None,
    upload: UploadForm | None = None,
    errors: list[Issue] | None = None,
    source: str = "",
    status: int = 200,
) -> HttpResponse:
    errors = errors or []
    limits = upload_limits()
    context = {
        "project": project,
        "is_editor": role == Role.EDITOR,
        "paste": paste or PasteForm(),
        "upload": upload or UploadForm(),
        "errors": errors[:MAX_SHOWN_ERRORS],
        "source": source,
        "more_errors": max(len(errors) - MAX_SHOWN_ERRORS, 0),
        "max_chars": f"{limits.max_chars:,}",
        "max_items": f"{limits.max_items:,}" if limits.max_items else "",
        "max_upload": human_bytes(settings.MAX_UPLOAD_BYTES),
        "editors": project_editors(project).count(),
        "jobs": Job.objects.filter(project=project, kind=Job.Kind.IMPORT)
        .visible_to(request.user, role)
        .select_related("project")
        .defer("payload", "result")[:5],
        "sync_limit": f"{settings.IMPORT_SYNC_LIMIT:,}",
    }
    return render(request, "imports/import.html", context, status=status)


def _report(request: HttpRequest, project: Project, result: ImportResult) -> None:
    if result.created:
        messages.success(
            request,
            f"Imported {result.created} article{'s' if result.created != 1 else ''} into "
            f"{project.name}.",
        )
    if result.skipped:
        shown = ", ".join(result.skipped[:20])
        more = f" and {len(result.skipped) - 20} more" if len(result.skipped) > 20 else ""
        messages.info(
            request,
            f"Skipped {len(result.skipped)} already in the project (same external id): "
            f"{shown}{more}.",
        )
    _report_backend(request, result)
    editors = project_editors(project).count()
    if result.created and editors < project.overlap:
        messages.warning(
            request,
            f"The project asks for {project.overlap} editors per article but has {editors}, "
            f"so the new articles have {editors} each for now.",
        )


def _report_backend(request: HttpRequest, result: ImportResult) -> None:
    outcome = result.predictions
    if outcome is None:
        return
    if outcome.error:
        messages.warning(
            request,
            f"The articles are imported, but the ML backend gave no predictions: {outcome.error}.",
        )
    else:
        messages.info(
            request,
            f"The ML backend predicted {outcome.created} span{'s' if outcome.created != 1 else ''} "
            f"for {outcome.articles} article{'s' if outcome.articles != 1 else ''}.",
        )


def _too_large_issue() -> Issue:
    return Issue(
        f"the upload is larger than {human_bytes(settings.MAX_UPLOAD_BYTES)}, the limit "
        "(MAX_UPLOAD_BYTES). Split it into smaller files."
    )


urlpatterns = [
    path("projects/<slug:slug>/import/", import_articles, name="import-articles"),
]
