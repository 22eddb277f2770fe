"""The workflow's pieces that other pages include: the editor's flag box on the article page."""

from __future__ import annotations

from django import template

from ..models import Article, Flag

register = template.Library()


@register.inclusion_tag("workflow/flag_box.html", takes_context=True)
def flag_box(context: template.Context, article: Article) -> dict[str, object]:
    """Flag this article instead of labelling it, or the caller's flag on it if they have
    one standing (only their own: editors never see each other's flags)."""
    request = context["request"]
    mine = (
        Flag.objects.filter(article=article, raised_by=request.user)
        .exclude(verdict=Flag.Verdict.DISMISSED)
        .order_by("-created_at", "-pk")
        .first()
    )
    return {
        "article": article,
        "flag": mine,
        "reasons": Flag.Reason.choices,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("workflow/comments.html", takes_context=True)
def comments_box(context: template.Context, article: Article) -> dict[str, object]:
    """The comment thread of the article as the caller may read it, with its form."""
    from ..views.workflow import comments_context

    request = context["request"]
    # The pages that include the box know the caller's role already.
    role = context.get("role") or article.project.role_of(request.user)
    return {
        **comments_context(request, article, role),
        "csrf_token": context.get("csrf_token"),
        "next": request.get_full_path(),
    }
