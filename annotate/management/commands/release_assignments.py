"""Hand articles nobody started within their project's timeout to other editors."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from annotate.services.workflow import release_all_stale_assignments


class Command(BaseCommand):
    help = (
        "Give every article its editor has not started within the project's assignment "
        "timeout to another editor. The site does this by itself whenever editors ask for "
        "their next article or reviewers open the queue; run this to do it on a schedule."
    )

    def handle(self, *args, **options) -> None:
        result = release_all_stale_assignments()
        for slug, count in result.items():
            self.stdout.write(f"{slug}: {count} article{'s' if count != 1 else ''} handed on")
        if not result:
            self.stdout.write("No project has an assignment timeout.")
