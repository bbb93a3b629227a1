"""An admin site that checks the admin's own parameters before Django reads them, so that no
made-up value is a server error."""

from datetime import date
from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import BadRequest, FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.http import HttpResponseRedirect
from django.utils.dateparse import parse_date

from .validators import FIRST_YEAR, LAST_YEAR


def is_key_of(field, value):
    """Whether `value` can be a primary key of `field`'s kind, within its column's range."""
    try:
        value = field.to_python(value)
    except ValidationError:
        return False
    if value is None or value == "":
        return False
    if isinstance(field, models.IntegerField | models.AutoField):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        return (low is None or value >= low) and (high is None or value <= high)
    return True


class KeysInRangeMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuse made-up keys as not being among the choices, before the database sees them."""

    def _check_values(self, value):
        key_field = self.queryset.model._meta.pk
        for key in value if isinstance(value, list | tuple) else ():
            if isinstance(key, str) and not is_key_of(key_field, key):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": key[:30]},
                )
        return super()._check_values(value)


class CheckedChoicesAdminMixin:
    """For a ModelAdmin with many-to-many fields (groups, permissions)."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", KeysInRangeMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class CheckedAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)
        model_admin = getattr(view, "__self__", None)
        if not isinstance(model_admin, admin.ModelAdmin):

            @wraps(checked)
            def site_view(request, *args, **kwargs):
                # The site's own views (the autocomplete) search with what they are sent.
                if has_nul(request.GET):
                    raise BadRequest("A NUL character is never part of a search.")
                return checked(request, *args, **kwargs)

            return site_view

        @wraps(checked)
        def inner(request, *args, **kwargs):
            return refuse_made_up_parameters(request, model_admin) or checked(
                request, *args, **kwargs
            )

        return inner


def refuse_made_up_parameters(request, model_admin):
    """Mend or refuse the admin's own parameters that no page of it would send.

    Django's admin reads these without checking them, and a made-up value is
    then a server error: a selected row that is no key, an empty `_to_field`, a
    day of the date hierarchy that no calendar has. Selected rows that cannot
    exist are dropped (none selected: Django says so); an empty `_to_field` is
    ignored; a date that cannot be, or a NUL character, is answered as Django
    answers a bad filter.
    """
    if ACTION_CHECKBOX_NAME in request.POST:
        post = request.POST.copy()
        key_field = model_admin.model._meta.pk
        post.setlist(
            ACTION_CHECKBOX_NAME,
            [key for key in post.getlist(ACTION_CHECKBOX_NAME) if is_key_of(key_field, key)],
        )
        request.POST = post
    for name in ("GET", "POST"):
        params = getattr(request, name)
        if TO_FIELD_VAR in params and not params[TO_FIELD_VAR]:
            params = params.copy()
            del params[TO_FIELD_VAR]
            setattr(request, name, params)
    if has_nul(request.GET) or not dates_are_real_and_in_range(request.GET, model_admin):
        return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
    return None


def has_nul(params):
    """No database stores a NUL character, and PostgreSQL refuses to look one up."""
    return any("\x00" in key + value for key, value in params.items())


def dates_are_real_and_in_range(params, model_admin):
    """Whether the dates the filters and the date hierarchy ask for exist and can be shown.

    A date hierarchy's year, month and day must make a real date; any date a
    date filter compares with lies between FIRST_YEAR and LAST_YEAR, which every
    time zone can convert.
    """
    model = model_admin.model
    hierarchy = {}
    for key, value in params.items():
        name, _, lookup = key.partition("__")
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not isinstance(field, models.DateField):
            continue
        if lookup in {"year", "month", "day"}:
            if not (value.isascii() and value.isdigit() and len(value) <= 4):
                return False
            hierarchy[lookup] = int(value)
        else:
            try:
                day = parse_date(value[:10])
            except ValueError:  # Well formed, but no such day: 2024-02-30.
                return False
            if day and not FIRST_YEAR <= day.year <= LAST_YEAR:
                return False
    if not hierarchy:
        return True
    try:
        day = date(hierarchy.get("year", 2000), hierarchy.get("month", 1), hierarchy.get("day", 1))
    except ValueError:
        return False
    return FIRST_YEAR <= day.year <= LAST_YEAR
