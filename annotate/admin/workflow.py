"""Flags, handovers and comments: records of the workflow, read here, written by the pages and
services (a flag is decided in the review queue, an article reassigned there)."""

from __future__ import annotations

from django.contrib import admin

from ..models import Comment, Flag, Handover
from .common import AdminMedia, ProjectFilter, ReadOnlyAdminMixin


class ArticleProjectFilter(ProjectFilter):
    path = "article__project"


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["article", "reason", "raised_by", "created_at", "verdict", "resolved_by"]
    list_filter = [ArticleProjectFilter, "reason", "verdict"]
    list_select_related = ["article", "raised_by", "resolved_by"]
    search_fields = ["article__title", "article__external_id", "raised_by__username", "note"]
    date_hierarchy = "created_at"
    Media = AdminMedia


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["article", "from_editor", "to_editor", "reason", "version", "created_at"]
    list_filter = [ArticleProjectFilter, "reason"]
    list_select_related = ["article", "from_editor", "to_editor"]
    search_fields = ["article__title", "article__external_id", "from_editor__username"]
    date_hierarchy = "created_at"
    Media = AdminMedia


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["article", "author", "author_role", "span", "created_at"]
    list_filter = [ArticleProjectFilter, "author_role"]
    list_select_related = ["article", "author", "span__label"]
    search_fields = ["article__title", "article__external_id", "author__username", "body"]
    date_hierarchy = "created_at"
    Media = AdminMedia
