"""Build a project's gold phrase index (what gold suggestions are found with) again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotate.models import Project
from annotate.services.suggestions import rebuild_gold_index


class Command(BaseCommand):
    help = (
        "Rebuild the phrase index behind gold suggestions from the project's final gold "
        "(it is kept up to date as golds are made final or reopened; this repairs it)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="The project's slug.")

    def handle(self, *args, slug: str, **options) -> None:
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"There is no project {slug!r}.")
        count = rebuild_gold_index(project)
        self.stdout.write(f"{project.slug}: {count} phrases from its final gold.")
