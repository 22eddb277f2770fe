"""Test settings: the app's settings, with a test-only key and a per-run test database.

Each pytest process gets its own test database name so that parallel runs (CI, helpers,
benchmarks) against one PostgreSQL server never collide.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-key-" + "x" * 50)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Jobs run inline unless a test starts a worker (tests/test_job_worker.py).
os.environ.setdefault("TASKS_BACKEND", "immediate")

from annotate.settings import *  # noqa: E402,F403
from annotate.settings import DATABASES  # noqa: E402

_suffix = os.environ.get("TEST_DB_SUFFIX") or str(os.getpid())
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so threads in concurrency tests see one database with real locks.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"annotate-test-{_suffix}.sqlite3")
    }
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_annotate_{_suffix}"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
