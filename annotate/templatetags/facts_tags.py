"""Facts on the labelling page: what each item of the span list shows under its span (the
figure at a glance, its relations out and in, each with a remove button), and the page's
facts configuration for static/js/facts.js. Built as strings: a page holds hundreds."""

from __future__ import annotations

from html import escape

from django import template
from django.urls import reverse
from django.utils.html import json_script
from django.utils.safestring import SafeString, mark_safe

from ..models import Article
from ..services.labelling import PageSpan
from ..services.page_facts import Link, PageFacts

register = template.Library()

# The id the script puts in place of, in URL templates.
PLACEHOLDER = 999_999_999


def _link_html(link: Link, span_url: str, relation_url: str) -> str:
    other = link.other
    quote = escape(other.quote)
    name = escape(link.name)
    if link.outgoing:
        text = f"{name} → "
        what = f"{name} → {quote}"
    else:
        text = f"← {name}: "
        what = f"{quote} {name} this span"
    return (
        f'<li class="link {"out" if link.outgoing else "in"}">'
        f'{text}<a class="link-end lbl-{escape(other.label)}" href="{escape(span_url)}{other.pk}/"'
        f' data-span-target="{other.pk}">{quote}</a> '
        f'<button class="relation-remove" form="relation-remove"'
        f' formaction="{escape(relation_url)}{link.relation_id}/delete/"'
        f' aria-label="Remove the relation {what}">×</button></li>'
    )


def span_facts_html(facts: PageFacts, span: PageSpan, span_url: str, relation_url: str) -> str:
    """What the span list shows under `span` ("" when it has no facts): a badge with its
    values at a glance, or "not given" for a label with attributes; its relations."""
    parts = []
    summary = facts.summaries.get(span.pk)
    if summary:
        parts.append(f'<span class="figure" title="Attributes">{escape(summary)}</span>')
    elif facts.specs_for(span.label):
        parts.append('<span class="figure is-missing">attributes not given</span>')
    warnings = facts.warnings.get(span.pk)
    if warnings:
        detail = escape("; ".join(warnings))
        parts.append(f'<span class="facts-warning" title="{detail}">⚠ no longer fits</span>')
    links = facts.links.get(span.pk)
    if links:
        items = "".join(_link_html(link, span_url, relation_url) for link in links)
        parts.append(f'<ul class="link-list">{items}</ul>')
    if not parts:
        return ""
    linked = " ".join(str(pk) for pk in facts.linked_ids(span.pk))
    return f'<div class="span-facts" data-linked="{linked}">{"".join(parts)}</div>'


@register.simple_tag
def facts_config(article: Article, facts: PageFacts | None) -> SafeString:
    """The facts settings the page's script reads: relation types (the labels each may
    start from and end at; null: any), the labels that have attributes, and URL templates
    (PLACEHOLDER stands for an id)."""
    if facts is None:
        return mark_safe("")
    schema = facts.schema
    config = {
        "relationTypes": [
            {
                "key": t.key,
                "name": t.name,
                "from": sorted(t.from_labels) if t.from_labels is not None else None,
                "to": sorted(t.to_labels) if t.to_labels is not None else None,
            }
            for t in schema.relations.values()
        ],
        "attributeLabels": sorted(label for label, specs in schema.attributes.items() if specs),
        "placeholder": str(PLACEHOLDER),
        "panelUrl": reverse("span-facts", args=[article.pk, PLACEHOLDER]),
        "relationAddUrl": reverse("relation-add", args=[article.pk]),
    }
    return json_script(config, "facts-config")
