"""python manage.py import_articles"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotate.models import Article, Assignment

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_articles", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write_jsonl(path: Path, *items: dict) -> Path:
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    return path


def item(external_id: str, text: str = "Rebels shelled Aleppo.") -> dict:
    return {"external_id": external_id, "title": external_id.upper(), "text": text}


def test_imports_the_sample_jsonl(project, editor, other_editor):
    output = run(str(SAMPLES / "articles.jsonl"), "--project", project.slug)
    assert (
        output.strip()
        == "Imported 3, skipped 0 (already present). Project demo-news: 6 assignments made."
    )
    assert Article.objects.filter(project=project).count() == 3
    assert Assignment.objects.filter(editor=editor).count() == 3


def test_imports_the_sample_json_array_and_txt_folder(project):
    run(str(SAMPLES / "articles.json"), "--project", project.slug)
    run(str(SAMPLES / "txt"), "--project", project.slug)
    assert sorted(Article.objects.values_list("external_id", flat=True)) == [
        "sample-101",
        "sample-102",
        "sample-201",
        "sample-202",
    ]
    assert Article.objects.get(external_id="sample-201").title == "Aid convoy reaches besieged town"


def test_second_run_reports_skipped_ids(project, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", item("a1"), item("a2"))
    run(str(path), "--project", project.slug)
    write_jsonl(path, item("a1"), item("a2"), item("a3"))
    output = run(str(path), "--project", project.slug)
    assert output.startswith("Imported 1, skipped 2 (already present): a1, a2.")
    assert Article.objects.count() == 3


def test_bad_json_line_fails_with_its_line_number_and_writes_nothing(project, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(item("a1")) + "\n" + '{"external_id": "a2", "text": "x"\n', encoding="utf-8"
    )
    with pytest.raises(CommandError) as caught:
        run(str(path), "--project", project.slug)
    assert str(caught.value) == (
        f"Nothing was imported: 1 error in {path}:\n"
        "  line 2: not valid JSON: Expecting ',' delimiter (column 34)"
    )
    assert not Article.objects.exists()


def test_every_error_is_listed(project, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([item("a1"), {"text": "x"}, item("a1")]), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run(str(path), "--project", project.slug)
    assert str(caught.value).splitlines()[1:] == [
        "  index 1: missing external_id",
        "  index 2: external_id 'a1' appears twice (first at index 0)",
    ]


def test_non_utf8_file_in_a_folder_is_named(project, tmp_path):
    (tmp_path / "ok.txt").write_text("Fine", encoding="utf-8")
    (tmp_path / "latin.txt").write_bytes(b"Caf\xe9")
    with pytest.raises(CommandError, match=r"latin\.txt: not valid UTF-8 at line 1, column 4"):
        run(str(tmp_path), "--project", project.slug)
    assert not Article.objects.exists()


def test_oversize_article_is_refused(project, tmp_path, settings):
    settings.MAX_ARTICLE_CHARS = 10
    path = write_jsonl(tmp_path / "a.jsonl", item("a1", "x" * 11))
    with pytest.raises(CommandError, match="line 1: text is longer than 10 characters"):
        run(str(path), "--project", project.slug)


def test_upload_caps_do_not_limit_the_command(project, tmp_path, settings):
    settings.MAX_UPLOAD_BYTES = 10
    settings.MAX_IMPORT_ITEMS = 1
    path = write_jsonl(tmp_path / "a.jsonl", item("a1"), item("a2"))
    run(str(path), "--project", project.slug)
    assert Article.objects.count() == 2


def test_batches_are_written_one_transaction_each(project, editor, other_editor, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", *(item(f"a{i}") for i in range(5)))
    output = run(str(path), "--project", project.slug, "--batch-size", "2")
    assert output.startswith("Imported 5, skipped 0")
    assert Assignment.objects.filter(editor=editor).count() == 5
    assert Assignment.objects.filter(editor=other_editor).count() == 5


def test_dry_run_writes_nothing(project, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", item("a1"))
    output = run(str(path), "--project", project.slug, "--dry-run")
    assert (
        output.strip() == f"Checked {path}: 1 article, no errors. Nothing was written (--dry-run)."
    )
    assert not Article.objects.exists()


def test_no_assign_and_user_options(project, editor, manager, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", item("a1"))
    run(str(path), "--project", project.slug, "--no-assign", "--user", manager.username)
    article = Article.objects.get()
    assert article.created_by == manager
    assert not article.assignments.exists()


def test_unknown_project_path_and_user_are_clear_errors(project, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", item("a1"))
    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        run(str(path), "--project", "nope")
    with pytest.raises(CommandError, match="is neither a file nor a folder"):
        run(str(tmp_path / "missing.jsonl"), "--project", project.slug)
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run(str(path), "--project", project.slug, "--user", "ghost")
