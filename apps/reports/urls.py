from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.ReportView.as_view(), name="report"),
    path("export/", views.ExportView.as_view(), name="export"),
    path("summary.pdf", views.PdfView.as_view(), name="pdf"),
    path("exports/<int:pk>/", views.ExportJobView.as_view(), name="export_job"),
    path("exports/<int:pk>/status/", views.ExportStatusView.as_view(), name="export_status"),
    path("exports/<int:pk>/download/", views.ExportDownloadView.as_view(), name="export_download"),
    path("subscribe/", views.SubscribeView.as_view(), name="subscribe"),
    path("capacity/", views.CapacityView.as_view(), name="capacity"),
    path("settings/", views.SettingsView.as_view(), name="reportsettings_edit"),
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
]
