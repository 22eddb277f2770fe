"""Full-text search over articles' title and text (annotate.services.article_search).

PostgreSQL: a stored generated ``tsvector`` column (config 'simple': lower-cased words, no
stemming and no stop words, since the news is in many languages) with a GIN index. The column
is not on the model: the database writes it, and only the search reads it. (A later migration
cannot change the type of ``title`` or ``text`` without dropping it first.)

SQLite: an FTS5 table over the article table (external content, so the text is stored once),
kept in sync by triggers, with the unicode61 tokenizer that folds case but keeps diacritics,
as PostgreSQL's 'simple' does.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "ALTER TABLE annotate_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, title || ' ' || text)) STORED",
    "CREATE INDEX annotate_article_search ON annotate_article USING gin (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS annotate_article_search",
    "ALTER TABLE annotate_article DROP COLUMN IF EXISTS search_vector",
]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE annotate_article_fts USING fts5("
    "title, text, content='annotate_article', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER annotate_article_fts_insert AFTER INSERT ON annotate_article BEGIN "
    "INSERT INTO annotate_article_fts(rowid, title, text) VALUES (new.id, new.title, new.text); "
    "END",
    "CREATE TRIGGER annotate_article_fts_delete AFTER DELETE ON annotate_article BEGIN "
    "INSERT INTO annotate_article_fts(annotate_article_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "END",
    "CREATE TRIGGER annotate_article_fts_update AFTER UPDATE OF title, text ON annotate_article "
    "BEGIN "
    "INSERT INTO annotate_article_fts(annotate_article_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO annotate_article_fts(rowid, title, text) VALUES (new.id, new.title, new.text); "
    "END",
    "INSERT INTO annotate_article_fts(annotate_article_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS annotate_article_fts_update",
    "DROP TRIGGER IF EXISTS annotate_article_fts_delete",
    "DROP TRIGGER IF EXISTS annotate_article_fts_insert",
    "DROP TABLE IF EXISTS annotate_article_fts",
]


def _run(statements_for):
    def run(apps, schema_editor):
        for statement in statements_for.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("annotate", "0010_jobs")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
            elidable=False,
        ),
    ]
