import os

from django.core.wsgi import get_wsgi_application

from .chunked import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotate.settings")
django_application = get_wsgi_application()


def _upload_limit() -> int:
    from django.conf import settings

    return settings.MAX_UPLOAD_BYTES


application = ChunkedBodies(django_application, limit=_upload_limit)
