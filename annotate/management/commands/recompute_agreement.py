"""python manage.py recompute_agreement [--project SLUG]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.models import Project
from annotate.services.agreement import recompute_project


class Command(BaseCommand):
    help = (
        "Rebuild the stored agreement statistics (per article, token and character units, and "
        "the per-editor-group totals the report reads) from the submitted annotations. They "
        "are kept up to date on every submit; run this after a bulk change outside the app, "
        "or to check: it gives the same figures."
    )

    # The system checks import every view and URL to check them, which takes as long as a
    # recompute of a thousand articles; this command needs only the models.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", help="Slug of one project; all projects by default.")

    def handle(self, *args, **options) -> None:
        projects = Project.objects.order_by("slug")
        if options["project"]:
            projects = projects.filter(slug=options["project"])
            if not projects.exists():
                raise CommandError(f"No project with slug {options['project']!r}.")
        for project in projects:
            started = time.perf_counter()
            summary = recompute_project(project)
            self.stdout.write(
                f"{project.slug}: {summary.compared} of {summary.articles} articles compared "
                f"in {summary.groups} editor groups, {summary.removed} stale removed "
                f"({time.perf_counter() - started:.1f} s)"
            )
