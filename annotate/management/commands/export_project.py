"""python manage.py export_project --project SLUG [--format F] [--release NAME] [-o FILE]"""

from __future__ import annotations

import hashlib
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from annotate.exports import FORMATS, render
from annotate.exports.conll import DOCSTARTS
from annotate.models import Project, Release
from annotate.services.exporting import SOURCES, count_records, export_records, fact_columns
from annotate.services.releases import ReleaseError, check_intact, generated_at, release_records


class Command(BaseCommand):
    help = (
        "Write a project's annotations, or one of its releases, to a file in the same formats "
        "as the API's export (jsonl, conll, spacy, w3c), streamed in constant memory with a "
        "progress bar on stderr. A release is rebuilt byte for byte; for jsonl its sha256 is "
        "checked against the release's."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Slug of the project.")
        parser.add_argument("--format", choices=list(FORMATS), default="jsonl")
        parser.add_argument(
            "--docstart",
            choices=list(DOCSTARTS),
            default="conll2003",
            help="CoNLL: the line opening each document (spacy: the one spacy convert reads).",
        )
        parser.add_argument(
            "--source", choices=list(SOURCES), default="gold", help="Gold, or every editor's."
        )
        parser.add_argument(
            "--final", action="store_true", help="Only articles whose gold is final."
        )
        parser.add_argument(
            "--exclude-flagged",
            action="store_true",
            help="Leave out articles with an open or upheld flag.",
        )
        parser.add_argument("--release", help="Export this release instead of the live data.")
        parser.add_argument("-o", "--output", help="File to write; standard output by default.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug {options['project']!r}.")
        format = options["format"]
        if options["release"]:
            release = Release.objects.filter(project=project, name=options["release"]).first()
            if release is None:
                raise CommandError(f"{project.slug} has no release {options['release']!r}.")
            try:
                check_intact(release)
            except ReleaseError as exc:
                raise CommandError(exc.detail) from None
            total, records = release.article_count, release_records(release)
            label, stamp = f"release {release.name}", generated_at(release)
        else:
            source = options["source"]
            which = {
                "source": source,
                "final_only": options["final"],
                "exclude_flagged": options["exclude_flagged"],
            }
            total = count_records(project, **which)
            records = export_records(project, **which)
            now = timezone.now()
            label, stamp = f"{source} export {now:%Y%m%d-%H%M%S}", now.isoformat()
        progress = tqdm(
            records, total=total, unit="record", file=sys.stderr, disable=options["no_progress"]
        )
        chunks = render(
            format,
            progress,
            namespace=project.slug,
            label=label,
            generated=stamp,
            docstart=options["docstart"],
            columns=fact_columns(project) if format.startswith("facts") else None,
        )
        digest, size = self._write(chunks, options["output"])
        progress.close()
        where = options["output"] or "standard output"
        self.stderr.write(f"Wrote {total} records ({size:,} bytes, {format}) to {where}.")
        if options["release"] and format == "jsonl":
            if digest != release.sha256:
                raise CommandError(
                    f"sha256 {digest} does not match the release's {release.sha256}."
                )
            self.stderr.write(f"sha256 {digest} matches release {release.name}.")

    def _write(self, chunks, output: str | None) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        with open(output, "wb") if output else _stdout() as out:  # noqa: SIM115
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size


class _stdout:
    """Standard output as a binary file that is not closed afterwards."""

    def __enter__(self):
        return sys.stdout.buffer

    def __exit__(self, *exc) -> None:
        sys.stdout.buffer.flush()
