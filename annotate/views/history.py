"""history pages."""

urlpatterns: list = []
