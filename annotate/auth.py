"""Every password check goes through the throttle (:mod:`annotate.throttle`).

- :class:`ThrottledModelBackend` is the only authentication backend, so every
  ``authenticate()`` is throttled: the app's login, the admin's, and any login a package
  adds later (DRF's browsable-API login, Basic authentication) without more code.
- :class:`ThrottledPasswordChangeForm` checks the old password of a password change through
  the same counters (someone holding a stolen session must not guess it unthrottled).
- :class:`AdminSite` uses both forms on the admin's login and password change pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from . import throttle


class ThrottledModelBackend(ModelBackend):
    """Django's model backend, counting each attempt before the password is checked."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        return throttle.checked_password(
            request,
            str(username),
            lambda: super(ThrottledModelBackend, self).authenticate(
                request, username=username, password=password, **kwargs
            ),
        )


def _throttled_error() -> ValidationError:
    return ValidationError(throttle.THROTTLED_MESSAGE, code="throttled")


class ThrottledLoginMixin:
    """Says why a login failed when the throttle refused it; otherwise Django's one answer
    for unknown users, wrong passwords and inactive users."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> ValidationError:
        if getattr(self.request, "password_throttled", False):
            return _throttled_error()
        return super().get_invalid_login_error()  # type: ignore[misc]


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The old password is checked through the throttle, under the user's own name."""

    def __init__(self, user, *args: Any, request: HttpRequest | None = None, **kwargs: Any):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        try:
            right = throttle.checked_password(
                self.request,
                self.user.get_username(),
                lambda: self.user.check_password(old_password),
            )
        except throttle.Throttled:
            raise _throttled_error()
        if not right:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class ThrottledAdminPasswordChangeForm(ThrottledPasswordChangeForm, AdminPasswordChangeForm):
    pass


class ThrottledPasswordChangeView(PasswordChangeView):
    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}


class AdminSite(admin.AdminSite):
    """Django's admin site with its two password checks throttled."""

    login_form = ThrottledAdminAuthenticationForm

    def password_change(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # Django's AdminSite.password_change, with the throttled form.
        defaults: dict[str, Any] = {
            "form_class": ThrottledAdminPasswordChangeForm,
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        return ThrottledPasswordChangeView.as_view(**defaults)(request)
