"""Strict fields: numbers, booleans and strings taken only in their own JSON type; unknown
fields refused."""

from __future__ import annotations

from rest_framework import serializers

MAX_INT = 2**31 - 1


class StrictIntegerField(serializers.IntegerField):
    """An integer, not a string, boolean or float that looks like one."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSlugField(serializers.SlugField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        return super().to_internal_value(data)


class RefuseUnknownFields:
    """Mixin: a body with fields this serializer does not know is refused, naming them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            # Read-only fields count as unknown: dropping them silently (`role`, `order`,
            # `created_at`) would look to the caller as if they had been set.
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        key: [f"Unknown field; the fields are {', '.join(sorted(writable))}."]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)
