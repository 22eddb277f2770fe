from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from annotate.views import urls as view_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("annotate.api.urls")),
    path("", include(view_urls)),
]

if settings.BENCH_FLOOR:  # bench/suite.py only: a bare view to measure the stack against
    urlpatterns.insert(0, path("", include("annotate.bench_urls")))
