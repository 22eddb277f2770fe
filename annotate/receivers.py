"""What happens when rows go away through a cascade rather than through a service.

Deleting an article (in the admin) deletes its statistics and its gold with it, and the
totals and indexes kept beside them must follow: the agreement totals lose the article's
statistics, and the suggestion index loses a final gold's phrases. Connected when the app
is ready (``AnnotateConfig.ready``), so that models never import the services above them.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from .models import Annotation, ArticleAgreement, ArticleFactAgreement
from .services import agreement, fact_agreement, suggestions
from .versioning import SpanKey


@receiver(post_delete, sender=ArticleAgreement, dispatch_uid="agreement-article-deleted")
def article_agreement_deleted(sender, instance: ArticleAgreement, **kwargs) -> None:
    agreement.subtract_deleted(instance)


@receiver(post_delete, sender=ArticleFactAgreement, dispatch_uid="fact-agreement-deleted")
def article_fact_agreement_deleted(sender, instance: ArticleFactAgreement, **kwargs) -> None:
    fact_agreement.subtract_deleted(instance)


@receiver(pre_delete, sender=Annotation, dispatch_uid="gold-phrases-final-gold-deleted")
def final_gold_deleted(sender, instance: Annotation, **kwargs) -> None:
    if not (instance.is_gold and instance.final):
        return
    spans = [SpanKey(s.start, s.end, s.label.key) for s in instance.current_spans()]
    suggestions.final_gold_changed(instance, before=spans, after=())
