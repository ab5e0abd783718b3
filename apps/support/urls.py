from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="case_list"),
    path("new/", views.CaseCreateView.as_view(), name="case_create"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("<int:pk>/reply/", views.CaseReplyView.as_view(), name="case_reply"),
    path("<int:pk>/followup/", views.CaseFollowupView.as_view(), name="case_followup"),
    path("<int:pk>/update/", views.CaseUpdateView.as_view(), name="case_update"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/",
        views.AttachmentView.as_view(),
        name="case_attachment",
    ),
    path("<int:pk>/station/", views.CaseCommandView.as_view(), name="case_command"),
    path("canned/", views.CannedAnswerListView.as_view(), name="cannedanswer_list"),
    path("canned/new/", views.CannedAnswerFormView.as_view(), name="cannedanswer_create"),
    path("canned/<int:pk>/", views.CannedAnswerFormView.as_view(), name="cannedanswer_edit"),
    path(
        "canned/<int:pk>/delete/",
        views.CannedAnswerDeleteView.as_view(),
        name="cannedanswer_delete",
    ),
    path("settings/", views.SettingsView.as_view(), name="supportsettings_edit"),
    # Drivers: no sign-in.
    path("help/", views.OpenView.as_view(), name="open"),
    path("help/confirm/<str:signed>/", views.VerifyView.as_view(), name="verify"),
    path("help/case/<str:signed>/", views.PublicCaseView.as_view(), name="case_public"),
    path(
        "help/case/<str:signed>/attachments/<int:attachment_id>/",
        views.PublicAttachmentView.as_view(),
        name="case_public_attachment",
    ),
]
