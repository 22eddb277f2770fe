"""labelling pages."""

urlpatterns: list = []
