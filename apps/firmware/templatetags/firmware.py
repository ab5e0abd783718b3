from django import template

register = template.Library()


@register.filter
def progress_step(value) -> int:
    """A percentage rounded down to the CSS classes' steps (no inline styles: CSP)."""
    value = int(value or 0)
    if value >= 100:
        return 100
    if value >= 10:
        return value // 10 * 10
    return 5 if value >= 5 else 0


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
