"""python manage.py import_articles PATH --project SLUG"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotate.article_parsing import FORMATS, Limits, ParseResult, chunks, parse, parse_folder
from annotate.models import Project
from annotate.services.importing import ImportConflict, ImportResult, import_articles

BIG_INPUT_BYTES = 1024 * 1024  # show progress bars from here on
BIG_INPUT_FILES = 200
MAX_LISTED_ERRORS = 200


class Command(BaseCommand):
    help = (
        "Import articles into a project from a JSON Lines file, a JSON array, a .txt file or "
        "a folder of .txt files. The whole input is checked first: any error, and nothing is "
        "written. Articles whose external id the project already has are skipped, so running "
        "it twice is harmless. A batch (the whole input, or --batch-size articles) is written "
        "in one transaction, then given to the project's editors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="A .jsonl, .json or .txt file, or a folder of .txt files.")
        parser.add_argument("--project", required=True, help="Slug of the project.")
        parser.add_argument(
            "--format",
            choices=["auto", *FORMATS],
            default="auto",
            help="Input format; by default from the file extension and content.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=0,
            help="Articles per transaction; 0 (the default) writes the whole input in one.",
        )
        parser.add_argument(
            "--user", help="Username recorded as the importer; an editor gets the articles first."
        )
        parser.add_argument(
            "--no-assign", action="store_true", help="Do not give the articles to editors yet."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the input and write nothing."
        )

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug {options['project']!r}.")
        if options["batch_size"] < 0:
            raise CommandError("--batch-size must be 0 (everything at once) or more.")
        user = self._user(options["user"])
        path = Path(options["path"])
        parsed = self._parse(path, options["format"])
        if parsed.errors:
            raise CommandError(_error_report(path, parsed))
        if options["dry_run"]:
            count = len(parsed.records)
            self.stdout.write(
                f"Checked {path}: {count} article{'s' if count != 1 else ''}, no errors. "
                "Nothing was written (--dry-run)."
            )
            return
        result = self._write(project, parsed, user, options)
        self.stdout.write(_summary(result, project))

    def _user(self, username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user

    def _parse(self, path: Path, format: str) -> ParseResult:
        # A local file an operator chose: only the per-article cap applies, not the
        # per-upload ones of the page and the API.
        limits = Limits(max_chars=settings.MAX_ARTICLE_CHARS, max_items=None, max_bytes=None)
        if path.is_dir():
            files = sum(1 for _ in path.glob("*.txt"))
            with self._bar(files >= BIG_INPUT_FILES, "Checking", files, "file") as bar:
                return parse_folder(path, limits=limits, progress=bar.update)
        if not path.is_file():
            raise CommandError(f"{path} is neither a file nor a folder.")
        data = path.read_bytes()
        with self._bar(len(data) >= BIG_INPUT_BYTES, "Checking", None, "article") as bar:
            return parse(data, name=path.name, format=format, limits=limits, progress=bar.update)

    def _write(self, project: Project, parsed: ParseResult, user, options) -> ImportResult:
        records = parsed.records
        total = ImportResult()
        big = len(records) >= BIG_INPUT_FILES or options["batch_size"] > 0
        with self._bar(big, "Importing", len(records), "article") as bar:
            for batch in chunks(records, options["batch_size"]):
                try:
                    result = import_articles(
                        project=project,
                        records=batch,
                        user=user,
                        assign=not options["no_assign"],
                        progress=bar.update,
                    )
                except ImportConflict as exc:
                    done = f" Before it: {_summary(total, project)}" if total.created else ""
                    raise CommandError(f"{exc.detail}{done}")
                bar.update(len(result.skipped))
                total.add(result)
        return total

    def _bar(self, show: bool, desc: str, total: int | None, unit: str) -> tqdm:
        # On stderr, and only for big inputs on a terminal, so logs and pipes stay clean.
        # The raw stream: Django's wrapper would end every redraw with a newline.
        return tqdm(
            total=total,
            desc=desc,
            unit=f" {unit}s",
            file=self.stderr._out,
            disable=None if show else True,
            leave=False,
        )


def _error_report(path: Path, parsed: ParseResult) -> str:
    errors = parsed.errors
    lines = [
        f"Nothing was imported: {len(errors)} error{'s' if len(errors) > 1 else ''} in {path}:"
    ]
    lines += [f"  {error}" for error in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > MAX_LISTED_ERRORS:
        lines.append(f"  … and {len(errors) - MAX_LISTED_ERRORS} more")
    return "\n".join(lines)


def _summary(result: ImportResult, project: Project) -> str:
    text = f"Imported {result.created}, skipped {len(result.skipped)} (already present)"
    if result.skipped:
        more = len(result.skipped) - 20
        text += ": " + ", ".join(result.skipped[:20]) + (f" and {more} more" if more > 0 else "")
    return f"{text}. Project {project.slug}: {result.assigned} assignments made."
