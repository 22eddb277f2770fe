"""agreement pages."""

urlpatterns: list = []
