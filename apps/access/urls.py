from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path("", views.RuleListView.as_view(), name="rule_list"),
    path("rules/new/", views.RuleFormView.as_view(), name="rule_create"),
    path("rules/<int:pk>/", views.RuleDetailView.as_view(), name="rule_detail"),
    path("rules/<int:pk>/edit/", views.RuleFormView.as_view(), name="rule_edit"),
    path("rules/<int:pk>/delete/", views.RuleDeleteView.as_view(), name="rule_delete"),
    path("groups/", views.GroupListView.as_view(), name="group_list"),
    path("groups/new/", views.GroupCreateView.as_view(), name="group_create"),
    path("groups/import/", views.GroupImportView.as_view(), name="group_import"),
    path("groups/<int:pk>/", views.GroupDetailView.as_view(), name="group_detail"),
    path("groups/<int:pk>/edit/", views.GroupEditView.as_view(), name="group_edit"),
    path("groups/<int:pk>/members/", views.GroupMembersView.as_view(), name="group_members"),
    path("groups/<int:pk>/delete/", views.GroupDeleteView.as_view(), name="group_delete"),
    path("holidays/", views.HolidayListView.as_view(), name="holiday_list"),
    path("holidays/new/", views.HolidayCreateView.as_view(), name="holiday_create"),
    path("holidays/<int:pk>/delete/", views.HolidayDeleteView.as_view(), name="holiday_delete"),
    path("why/", views.ExplainView.as_view(), name="explain"),
    path(
        "stations/<int:pk>/local-list/sync/",
        views.StationLocalListSyncView.as_view(),
        name="station_local_list_sync",
    ),
]
