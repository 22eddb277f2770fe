"""Users in the admin: staff who may change users cannot raise anyone's privileges.

Django's own UserAdmin lets anyone with ``change_user`` tick ``is_superuser`` on their own
account; here only superusers set staff and superuser status, groups and permissions, and
only superusers change (or set the password of) another staff member or a superuser."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

PRIVILEGES = ("is_staff", "is_superuser", "groups", "user_permissions")

User = get_user_model()


class UserAdmin(DjangoUserAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return (*fields, *PRIVILEGES)

    def _above_caller(self, request: HttpRequest, obj) -> bool:
        """`obj` is a staff member or superuser other than the caller, who is no superuser."""
        if obj is None or request.user.is_superuser or obj.pk == request.user.pk:
            return False
        return obj.is_staff or obj.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self._above_caller(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self._above_caller(request, obj) and super().has_delete_permission(request, obj)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserAdmin)
