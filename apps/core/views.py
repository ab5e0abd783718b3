"""Shared view plumbing: the base views every portal page uses, so scoping is never by hand."""

from __future__ import annotations

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView

from . import panels


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "schema": connection.schema_name})


class PermissionRequiredMixin(LoginRequiredMixin):
    """Needs ``permission`` on at least one site; the queryset is restricted to where it holds."""

    permission: str = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.actor.scope_for(self.permission).empty:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.scoped(super().get_queryset())

    def scoped(self, queryset):
        return queryset.restrict(self.request.actor, self.permission)

    def may(self, permission: str, site_id: int | None) -> bool:
        """Whether the actor holds ``permission`` on the site (for panels within a page)."""
        return self.request.actor.scope_for(permission).covers_site(site_id)


class OneOfManySelect(forms.Select):
    """A compact drop-down for a filter that accepts several values (the API may send many;
    the portal picks one), with an "any" first option."""

    def __init__(self, *args, any_label=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.any_label = any_label or _("Any")

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        return [value for value in values or [] if value != ""]

    def format_value(self, value):
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        return [str(v) for v in value if v is not None]

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        if not any(option["value"] == "" for _, options, _ in groups for option in options):
            empty = self.create_option(name, "", self.any_label, not value, 0, attrs=attrs)
            groups.insert(0, (None, [empty], 0))
        return groups


def compact_filter_fields(form, names, labels=None):
    """The fields of a FilterSet form the portal shows, multi-value ones as one drop-down."""
    labels = labels or {}
    fields = []
    for name in names:
        field = form.fields[name]
        if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            field.widget = OneOfManySelect(choices=field.choices)
        elif type(field).__name__ == "MomentField":  # a day or a time: the portal picks a day
            field.widget.input_type = "date"
        elif isinstance(field.widget, forms.NullBooleanSelect):
            field.widget.choices = [("unknown", _("Any")), ("true", _("Yes")), ("false", _("No"))]
        bound = form[name]  # may be cached by validation: rename the bound field itself
        if name in labels:
            field.label = bound.label = labels[name]
        fields.append(bound)
    return fields


class ScopedListView(PermissionRequiredMixin, ListView):
    """A scoped list, filtered and sorted by the model's FilterSet (the API's too).
    ``filter_fields`` names the filters the page shows (``filter_labels`` renames them)."""

    paginate_by = 50
    filterset_class = None
    filter_fields: tuple[str, ...] = ()
    filter_labels: dict = {}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(
                self.request.GET, queryset=queryset, request=self.request
            )
            return self.filterset.qs
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = getattr(self, "filterset", None)
        context["filterset"] = filterset
        if filterset is not None and self.filter_fields:
            context["filter_form_fields"] = compact_filter_fields(
                filterset.form, self.filter_fields, self.filter_labels
            )
        return context


class ScopedDetailView(PermissionRequiredMixin, DetailView):
    """Objects outside the actor's scope are 404, exactly like objects that do not exist."""


class PanelsMixin:
    """Adds the panels feature apps registered for this page (``apps.core.panels``): only
    those the actor may see on the object's site."""

    panel_page = ""

    def panel_site_id(self, obj) -> int | None:
        return obj.site_id

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["panels"] = panels.page_panels(
            self.panel_page,
            obj=self.object,
            actor=self.request.actor,
            site_id=self.panel_site_id(self.object),
        )
        return context
