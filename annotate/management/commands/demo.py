"""Everything a first look needs: migrate, the demo data, and the development server."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

DEFAULT_ADDRPORT = "127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Run migrate, setup_demo, then runserver (default 127.0.0.1:8000). DEBUG only: "
        "DEBUG=1 python manage.py demo [addrport]."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default=DEFAULT_ADDRPORT, help="Address and port to serve on."
        )

    def handle(self, *args, addrport: str = DEFAULT_ADDRPORT, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo is for development: run with DEBUG=1.")
        verbosity = options.get("verbosity", 1)
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("setup_demo", verbosity=verbosity)
        self.stdout.write(f"Open http://{addrport}/ (admin pages at /admin/).")
        # No autoreloader: it would run this whole command again in a child process.
        call_command("runserver", addrport, use_reloader=False)
