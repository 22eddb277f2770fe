"""Create or update the demo project, its users and the work already done (idempotent)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotate.demo import DemoError, setup_demo
from annotate.services.annotations import AnnotationError
from annotate.views.accounts import DEMO_PASSWORD


class Command(BaseCommand):
    help = (
        "Create or update the demo project from fixtures/demo/ with users admin, editor1-3 and "
        "reviewer (password 'demo-password'). Running it again changes nothing. Does not "
        "migrate. Refuses with DEBUG off unless --force: the demo password is public."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run with DEBUG off too (creates a superuser whose password is published).",
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "The demo users have a published password, so setup_demo runs with DEBUG=1 "
                "only. Use --force if you really want them on this server."
            )
        try:
            summary = setup_demo()
        except (DemoError, AnnotationError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(str(summary)))
        self.stdout.write(
            f"Log in as admin, editor1, editor2, editor3 or reviewer; password {DEMO_PASSWORD}"
        )
