from django.contrib import admin
from django.urls import include, path

from annotate.views import urls as view_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("annotate.api.urls")),
    path("", include(view_urls)),
]
