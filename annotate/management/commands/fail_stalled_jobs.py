"""python manage.py fail_stalled_jobs [--minutes 60]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.services.jobs import fail_stalled


class Command(BaseCommand):
    help = (
        "Mark failed the background jobs still 'running' with no progress for --minutes (their "
        "worker was killed or its machine lost), so their pages say so. Run it from cron; "
        "choose more minutes than your longest agreement recompute takes (a recompute reports "
        "no progress until it ends)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=int, default=60)

    def handle(self, *args, **options) -> None:
        if options["minutes"] < 1:
            raise CommandError("--minutes must be at least 1.")
        count = fail_stalled(minutes=options["minutes"])
        self.stdout.write(f"{count} stalled job{'s' if count != 1 else ''} marked failed.")
