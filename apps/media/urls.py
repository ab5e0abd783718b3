from django.urls import path

from . import views

app_name = "media"

urlpatterns = [
    path("", views.MediaScheduleListView.as_view(), name="mediaschedule_list"),
    path("schedules/new/", views.MediaScheduleFormView.as_view(), name="mediaschedule_create"),
    path(
        "schedules/<int:pk>/", views.MediaScheduleDetailView.as_view(), name="mediaschedule_detail"
    ),
    path(
        "schedules/<int:pk>/edit/",
        views.MediaScheduleFormView.as_view(),
        name="mediaschedule_edit",
    ),
    path(
        "schedules/<int:pk>/publish/",
        views.MediaSchedulePublishView.as_view(),
        name="mediaschedule_publish",
    ),
    path("library/", views.MediaAssetListView.as_view(), name="mediaasset_list"),
    path("library/upload/", views.MediaAssetUploadView.as_view(), name="mediaasset_upload"),
    path(
        "library/<int:pk>/thumbnail/",
        views.MediaAssetThumbnailView.as_view(),
        name="mediaasset_thumbnail",
    ),
    path("screens/", views.ScreenModelSaveView.as_view(), name="screenmodel_save"),
    path("playlists/", views.PlaylistListView.as_view(), name="playlist_list"),
    path("playlists/new/", views.PlaylistCreateView.as_view(), name="playlist_create"),
]
