"""Importing into a project (annotate.services.importing): skips, atomicity, assignment."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from annotate.article_parsing import Limits, parse
from annotate.models import Article, Assignment, Role
from annotate.services import importing as importing_service
from annotate.services.annotations import NotAllowed
from annotate.services.importing import (
    ImportConflict,
    ImportTooLarge,
    InvalidImport,
    import_articles,
    import_pasted,
    import_upload,
)
from annotate.text import canonicalize

from .factories import make_article, make_member, make_project, make_user


def records(*items: dict) -> list:
    data = "\n".join(json.dumps(item) for item in items)
    result = parse(data, format="jsonl")
    assert result.ok, result.errors
    return result.records


def item(external_id: str, text: str = "Rebels shelled Aleppo on Monday.", **extra) -> dict:
    return {"external_id": external_id, "title": f"Title {external_id}", "text": text, **extra}


def test_articles_are_created_with_canonical_text_and_checksum(project, manager):
    result = import_articles(
        project=project,
        records=records(item("a1", "Line one\r\nCaf\u0065\u0301\r"), item("a2")),
        user=manager,
    )
    assert result.created == 2
    assert result.skipped == []
    article = Article.objects.get(project=project, external_id="a1")
    assert article.text == "Line one\nCaf\u00e9\n"
    assert article.sha256 == hashlib.sha256(article.text.encode()).hexdigest()
    assert article.created_by == manager
    assert article.title == "Title a1"
    assert sorted(result.article_ids) == sorted(
        Article.objects.filter(project=project).values_list("pk", flat=True)
    )


def test_every_field_is_stored(project):
    import_articles(
        project=project,
        records=records(
            item(
                "a1",
                url="https://example.org/x",
                published_at="2024-03-01T10:00:00Z",
                meta={"section": "world", "n": [1, 2]},
            )
        ),
    )
    article = Article.objects.get(external_id="a1")
    assert article.url == "https://example.org/x"
    assert article.published_at.isoformat() == "2024-03-01T10:00:00+00:00"
    assert article.meta == {"section": "world", "n": [1, 2]}


def test_a_second_run_skips_what_is_already_there(project):
    first = import_articles(project=project, records=records(item("a1"), item("a2")))
    second = import_articles(project=project, records=records(item("a2"), item("a1"), item("a3")))
    assert (first.created, first.skipped) == (2, [])
    assert (second.created, second.skipped) == (1, ["a2", "a1"])
    assert Article.objects.filter(project=project).count() == 3


def test_a_skipped_article_keeps_its_stored_text(project):
    make_article(project, "Original text.", external_id="a1")
    import_articles(project=project, records=records(item("a1", "Changed text.")))
    assert Article.objects.get(external_id="a1").text == "Original text."


def test_external_ids_are_per_project(project):
    other = make_project("other")
    make_article(other, external_id="a1")
    result = import_articles(project=project, records=records(item("a1")))
    assert result.created == 1


def test_duplicate_ids_in_one_batch_write_nothing(project):
    batch = records(item("a1")) + records(item("a1"))
    with pytest.raises(InvalidImport, match="appears twice"):
        import_articles(project=project, records=batch)
    assert not Article.objects.exists()


def test_a_failure_while_assigning_writes_nothing(project, editor, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("assignment failed")

    monkeypatch.setattr("annotate.services.importing.assign_articles", broken)
    with pytest.raises(RuntimeError):
        import_articles(project=project, records=records(item("a1"), item("a2")))
    assert not Article.objects.exists()
    assert not Assignment.objects.exists()


def test_new_articles_go_to_overlap_editors(project, editor, other_editor):
    third = make_member(project, make_user("third"), Role.EDITOR)
    result = import_articles(project=project, records=records(*(item(f"a{i}") for i in range(9))))
    assert result.assigned == 18
    loads = {
        user.username: Assignment.objects.filter(editor=user).count()
        for user in (editor, other_editor, third)
    }
    assert loads == {"edith": 6, "otto": 6, "third": 6}
    for article in Article.objects.all():
        assert article.assignments.count() == 2


def test_assign_false_leaves_articles_unassigned(project, editor):
    result = import_articles(project=project, records=records(item("a1")), assign=False)
    assert result.assigned == 0
    assert not Assignment.objects.exists()


def test_skipped_articles_get_no_new_assignments(project, editor):
    make_article(project, external_id="a1")
    result = import_articles(project=project, records=records(item("a1")))
    assert result.assigned == 0


def test_uploading_editor_gets_the_article_first(project, editor, other_editor):
    third = make_member(project, make_user("third"), Role.EDITOR)
    # Give the uploader the highest load, so balance alone would not pick them.
    for i in range(3):
        make_article(project, external_id=f"old{i}", editors=[third])
    result = import_articles(project=project, records=records(item("mine")), user=third)
    editors = set(
        Assignment.objects.filter(article__external_id="mine").values_list(
            "editor__username", flat=True
        )
    )
    assert result.assigned == 2
    assert "third" in editors
    assert len(editors) == 2


# --- uploads: the page's and the API's entry point --------------------------------------


def test_upload_reports_every_error_and_writes_nothing(project, manager):
    data = "\n".join(
        [json.dumps(item("a1")), '{"external_id": "a2", "text": }', json.dumps({"text": "x"})]
    )
    with pytest.raises(InvalidImport) as caught:
        import_upload(project=project, data=data.encode(), name="batch.jsonl", user=manager)
    assert caught.value.status == 400
    assert caught.value.errors == [
        {"line": 2, "detail": "not valid JSON: Expecting value (column 31)"},
        {"line": 3, "detail": "missing external_id"},
    ]
    assert caught.value.detail == (
        "Nothing was imported: line 2: not valid JSON: Expecting value (column 31) "
        "(and 1 more error)"
    )
    assert not Article.objects.exists()


def test_upload_of_a_json_array_names_indexes(project):
    data = json.dumps([item("a1"), {"external_id": "a2"}])
    with pytest.raises(InvalidImport) as caught:
        import_upload(project=project, data=data, format="json")
    assert caught.value.errors == [{"index": 1, "detail": "missing text"}]


@override_settings(MAX_UPLOAD_BYTES=50)
def test_upload_over_the_byte_cap_is_a_413(project):
    with pytest.raises(ImportTooLarge) as caught:
        import_upload(project=project, data=json.dumps([item("a1")]).encode(), format="json")
    assert caught.value.status == 413
    assert not Article.objects.exists()


@override_settings(MAX_ARTICLE_CHARS=20)
def test_upload_over_the_article_cap_names_the_article(project):
    data = json.dumps([item("a1", "short"), item("a2", "x" * 21)])
    with pytest.raises(InvalidImport) as caught:
        import_upload(project=project, data=data, format="json")
    assert caught.value.errors == [
        {
            "index": 1,
            "detail": "text is longer than 20 characters (21; the limit is MAX_ARTICLE_CHARS)",
        }
    ]
    assert not Article.objects.exists()


@override_settings(MAX_IMPORT_ITEMS=2)
def test_upload_over_the_item_cap_is_refused(project):
    data = json.dumps([item("a1"), item("a2"), item("a3")])
    with pytest.raises(InvalidImport, match="MAX_IMPORT_ITEMS"):
        import_upload(project=project, data=data, format="json")


def test_upload_checks_the_role(project):
    with pytest.raises(NotAllowed):
        import_upload(project=project, data=json.dumps([item("a1")]), role=Role.REVIEWER)
    with pytest.raises(NotAllowed):
        import_upload(project=project, data=json.dumps([item("a1")]), role=Role.EDITOR)
    assert not Article.objects.exists()


def test_editors_upload_one_article_at_a_time(db):
    project = make_project("open", editors_can_upload=True)
    editor = make_member(project, make_user("ed"), Role.EDITOR)
    with pytest.raises(InvalidImport, match="one article at a time"):
        import_upload(
            project=project,
            data=json.dumps([item("a1"), item("a2")]),
            user=editor,
            role=Role.EDITOR,
        )
    result = import_upload(
        project=project, data=b"Headline\n\nBody.", name="story.txt", user=editor, role=Role.EDITOR
    )
    assert result.created == 1
    assert Assignment.objects.filter(editor=editor, article__external_id="story").exists()


def test_pasted_article_gets_an_id_from_its_text_and_a_title_from_its_first_line(project):
    text = "\r\n  Storm hits the coast\r\nThree people were injured."
    first = import_pasted(project=project, text=text)
    again = import_pasted(project=project, text=canonicalize(text))
    article = Article.objects.get()
    assert first.created == 1
    assert again.skipped == [article.external_id]
    assert article.external_id.startswith("text-")
    assert article.title == "Storm hits the coast"
    assert article.text == "\n  Storm hits the coast\nThree people were injured."


def test_pasted_article_keeps_given_id_title_and_url(project):
    import_pasted(
        project=project,
        text="Body.",
        title="Given title",
        external_id=" given-1 ",
        url="https://example.org/p",
    )
    article = Article.objects.get()
    assert (article.external_id, article.title, article.url) == (
        "given-1",
        "Given title",
        "https://example.org/p",
    )


def test_pasted_article_errors_are_reported(project):
    with pytest.raises(InvalidImport, match="text is empty"):
        import_pasted(project=project, text="   ")
    with pytest.raises(InvalidImport, match="url is not an http"):
        import_pasted(project=project, text="Body.", url="ftp://x")
    with pytest.raises(InvalidImport, match="NUL"):
        import_pasted(project=project, text="a\x00b")
    assert not Article.objects.exists()


def test_ten_thousand_articles_import_in_one_go(project, editor, other_editor):
    """Correctness at size; the speed is measured in bench/, never asserted here."""
    body = "Rebels shelled the town of Idlib on Monday, a monitor said. " * 80  # ~4,800 chars
    data = "\n".join(
        json.dumps({"external_id": f"bulk-{i}", "title": f"Story {i}", "text": f"{i}. {body}"})
        for i in range(10_000)
    )
    # Through the command's path: no per-upload caps (this is ~48 MiB), parse, then write.
    parsed = parse(data.encode(), name="bulk.jsonl", limits=Limits(max_items=None, max_bytes=None))
    assert parsed.ok
    result = import_articles(project=project, records=parsed.records)
    assert result.created == 10_000
    assert result.assigned == 20_000
    assert Article.objects.filter(project=project).count() == 10_000


def test_a_concurrent_insert_of_the_same_id_is_a_conflict_and_writes_nothing(project, monkeypatch):
    real_insert_rows = importing_service.insert_rows

    def racing_insert_rows(model, *args, **kwargs):
        # Another import commits "a2" between our skip check and our insert.
        if model is Article:
            make_article(project, external_id="a2")
        return real_insert_rows(model, *args, **kwargs)

    monkeypatch.setattr(importing_service, "insert_rows", racing_insert_rows)
    with pytest.raises(ImportConflict) as caught:
        import_articles(project=project, records=records(item("a1"), item("a2")))
    assert caught.value.status == 409
    assert not Article.objects.filter(external_id="a1").exists()


# --- the bulk write stores what bulk_create would ---------------------------------------

TRICKY = [
    "Plain ASCII text.",
    "Windows\r\nline ends\r\nbecome LF.",
    "Caf\u0065\u0301 composes; caf\u00e9 stays.",
    "\u0627\u0644\u062c\u064a\u0634 \u0642\u0635\u0641 \u062d\u0644\u0628.",  # Arabic
    "Emoji \U0001f600, a flag \U0001f1fa\U0001f1e6, a ZWJ family \U0001f469\u200d\U0001f52c.",
    "Tabs\tand back\\slashes, \\N, \\t and \\\\ as text; 'quotes' and \"double\".",
    "Trailing newlines\n\n",
    "x" * 20_000,
]


def test_imported_articles_are_stored_as_bulk_create_stores_them(project, manager):
    items = [
        item(
            f"t{n}",
            text,
            title=f"Title \\N {text[:20]}",
            url=f"https://example.org/{n}?q=a\\b",
            published_at="2024-03-01T10:00:00+02:00" if n % 2 else "",
            meta={"n": n, "note": "\u00e9 \\N \t", "nested": [{"deep": [1.5, None, True]}]}
            if n % 3
            else {},
        )
        for n, text in enumerate(TRICKY)
    ]
    parsed = records(*items)
    import_articles(project=project, records=parsed, user=manager)
    reference = make_project("reference")
    Article.objects.bulk_create(
        Article(
            project=reference,
            created_by=manager,
            sha256=hashlib.sha256(record["text"].encode()).hexdigest(),
            **record,
        )
        for record in parsed
    )
    columns = "external_id, title, text, sha256, url, published_at, meta, created_by_id"
    with connection.cursor() as cursor:

        def stored(project) -> list[tuple]:
            cursor.execute(
                f"SELECT {columns} FROM annotate_article WHERE project_id = %s "
                "ORDER BY external_id",
                [project.pk],
            )
            return cursor.fetchall()

        assert stored(project) == stored(reference)
    fields = [name.strip() for name in columns.split(",")]
    assert list(
        Article.objects.filter(project=project).order_by("external_id").values_list(*fields)
    ) == list(
        Article.objects.filter(project=reference).order_by("external_id").values_list(*fields)
    )
    assert Article.objects.filter(project=project, created_at__isnull=True).count() == 0


def test_article_ids_follow_the_records_skipped_ones_left_out(project):
    make_article(project, external_id="old")
    result = import_articles(
        project=project, records=records(item("b"), item("old"), item("a"), item("c"))
    )
    names = dict(Article.objects.values_list("pk", "external_id"))
    assert [names[pk] for pk in result.article_ids] == ["b", "a", "c"]
    assert result.skipped == ["old"]


def test_progress_counts_every_article_written(project):
    seen: list[int] = []
    result = import_articles(
        project=project, records=records(*(item(f"a{i}") for i in range(7))), progress=seen.append
    )
    assert sum(seen) == result.created == 7


def test_the_number_of_queries_does_not_grow_with_the_upload(project, manager, editor):
    def queries(prefix: str, count: int) -> int:
        data = "\n".join(json.dumps(item(f"{prefix}{i}")) for i in range(count))
        with CaptureQueriesContext(connection) as captured:
            result = import_upload(project=project, data=data.encode(), format="jsonl")
        assert result.created == count
        return len(captured)

    assert queries("small-", 2) == queries("large-", 1_500)


def test_an_upload_of_only_known_articles_writes_nothing(project, editor):
    import_articles(project=project, records=records(item("a1"), item("a2")))
    before = Assignment.objects.count()
    result = import_articles(project=project, records=records(item("a2"), item("a1")))
    assert (result.created, result.assigned, result.article_ids) == (0, 0, [])
    assert Assignment.objects.count() == before
