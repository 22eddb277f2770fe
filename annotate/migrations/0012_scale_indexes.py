"""What a million articles needed (bench/scale.py).

- An editor's assignments in article order: the project page and "next article" read an
  editor's queue a page or a row at a time, and an editor of a large project has thousands.
- The agreement report's "computed at" (the latest statistics row of the project): an index
  on (project, unit, computed_at) instead of reading every row.
- PostgreSQL's JIT compiler off for this database. The queue and report queries are costed
  high on a big project (their correlated subqueries are counted once per article), so JIT
  compiled them on every request: seconds of compilation for a query that runs in
  milliseconds. A web application's short queries never win it back. Needs the right to
  alter the database (its owner); without it the migration says so and goes on, and the
  operator sets ``jit = off`` (postgresql.conf or ALTER DATABASE) instead.
"""

import warnings

from django.db import DatabaseError, migrations, models, transaction


def _set_jit(value: str):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            name = connection.ops.quote_name(cursor.fetchone()[0])
            statement = f"ALTER DATABASE {name} " + (
                "SET jit = off" if value == "off" else "RESET jit"
            )
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute(statement)
            except DatabaseError as error:
                warnings.warn(
                    f"Could not run {statement!r} ({error}); set jit = off for this "
                    "database yourself.",
                    stacklevel=1,
                )

    return run


class Migration(migrations.Migration):
    dependencies = [("annotate", "0011_search")]

    operations = [
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["editor", "article"], name="assignment_editor_article_idx"),
        ),
        migrations.AddIndex(
            model_name="articleagreement",
            index=models.Index(
                fields=["project", "unit", "computed_at"], name="agreement_computed_idx"
            ),
        ),
        migrations.RunPython(_set_jit("off"), _set_jit("on"), elidable=False),
    ]
