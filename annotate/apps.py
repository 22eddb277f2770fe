from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AnnotateConfig(AppConfig):
    default = True  # this module holds two configs; "annotate" in INSTALLED_APPS is this one
    name = "annotate"
    verbose_name = "Fact labelling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the signal receivers


class AdminConfig(admin_apps.AdminConfig):
    """The admin, on a site whose login and password change go through the throttle."""

    default = False  # named in INSTALLED_APPS in place of "django.contrib.admin"
    default_site = "annotate.auth.AdminSite"
