"""Background jobs: read here (state, progress, result, error), started and run by the pages,
the API and the workers."""

from __future__ import annotations

from django.contrib import admin

from ..models import Job
from .common import AdminMedia, ProjectFilter, ReadOnlyAdminMixin


@admin.register(Job)
class JobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "project", "state", "done", "total", "started_by", "created_at"]
    list_filter = [ProjectFilter, "kind", "state"]
    list_select_related = ["project", "started_by"]
    search_fields = ["message", "error", "started_by__username", "task_id"]
    date_hierarchy = "created_at"
    # The upload itself is a compressed blob: nothing to read here.
    exclude = ["payload"]
    Media = AdminMedia

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload")
