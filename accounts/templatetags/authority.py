"""The account rules in templates: buttons shown only where the views would allow them."""

from django import template

register = template.Library()


@register.filter
def changeable_by(staff, user):
    """`{% if member|changeable_by:user %}`: Staff.refusal_to_change_by, as a yes or no."""
    return not staff.refusal_to_change_by(user)


@register.filter
def deletable_by(staff, user):
    return not staff.refusal_to_delete_by(user)
