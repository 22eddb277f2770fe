"""Database-level guards for annotation history, on both supported databases:

- a version number n > 1 can only be inserted when version n - 1 of the same annotation
  exists, so numbering has no gap whatever code writes it;
- versions can never be updated (deleting happens only with their annotation).
"""

from django.db import migrations

TABLE = "annotate_annotationversion"

POSTGRES = [
    f"""
    CREATE FUNCTION annotate_version_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'annotation versions are immutable' USING ERRCODE = '23514';
      END IF;
      IF NEW.number > 1 AND NOT EXISTS (
        SELECT 1 FROM {TABLE} WHERE annotation_id = NEW.annotation_id AND number = NEW.number - 1
      ) THEN
        RAISE EXCEPTION 'version % of annotation % would leave a gap', NEW.number,
          NEW.annotation_id USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    f"""CREATE TRIGGER annotate_version_guard BEFORE INSERT OR UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION annotate_version_guard();""",
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS annotate_version_guard ON {TABLE};",
    "DROP FUNCTION IF EXISTS annotate_version_guard();",
]

SQLITE = [
    f"""CREATE TRIGGER annotate_version_no_gap BEFORE INSERT ON {TABLE}
    WHEN NEW.number > 1 AND NOT EXISTS (
      SELECT 1 FROM {TABLE} WHERE annotation_id = NEW.annotation_id AND number = NEW.number - 1
    )
    BEGIN SELECT RAISE(ABORT, 'annotation version would leave a gap'); END;""",
    f"""CREATE TRIGGER annotate_version_immutable BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'annotation versions are immutable'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS annotate_version_no_gap;",
    "DROP TRIGGER IF EXISTS annotate_version_immutable;",
]


def _run(statements):
    def apply(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("annotate", "0003_agreement")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
