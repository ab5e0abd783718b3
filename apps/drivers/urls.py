from django.urls import include, path

from . import views

app_name = "drivers"

urlpatterns = [
    # public
    path("", views.finder, name="finder"),
    path("stations.json", views.finder_data, name="finder_data"),
    path("stations/<int:pk>/", views.station_page, name="station"),
    path("stations/<int:pk>/tips/", views.tip_create, name="tip_create"),
    path("tips/<int:pk>/vote/", views.tip_vote, name="tip_vote"),
    path("tips/<int:pk>/delete/", views.tip_delete, name="tip_delete"),
    path("photos/<int:pk>/", views.tip_photo, name="tip_photo"),
    # drivers' accounts
    path("sign-up/", views.SignUpView.as_view(), name="signup"),
    path("sign-in/", views.SignInView.as_view(), name="signin"),
    path("sign-out/", views.signout, name="signout"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("verify-again/", views.verify_resend, name="verify_resend"),
    path("account/", views.account, name="account"),
    path("account/preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("account/delete/", views.DeleteAccountView.as_view(), name="delete"),
    path("account/cards/", views.card_add, name="card_add"),
    path("account/cards/<int:pk>/verify/", views.card_verify, name="card_verify"),
    path("account/cards/<int:pk>/remove/", views.card_remove, name="card_remove"),
    path("account/sessions/<int:pk>/", views.session_detail, name="session"),
    path("account/queues/join/<int:pk>/", views.queue_join, name="queue_join"),
    path("account/queues/<int:entry_id>/leave/", views.queue_leave, name="queue_leave"),
    path("account/sessions/<int:pk>/receipt.pdf", views.session_receipt_pdf, name="receipt_pdf"),
    # portal (site admins)
    path("manage/listings/", views.ListingListView.as_view(), name="listing_list"),
    path("manage/listings/new/", views.ListingFormView.as_view(), name="listing_create"),
    path("manage/listings/<int:pk>/", views.ListingFormView.as_view(), name="listing_edit"),
    path(
        "manage/listings/<int:pk>/delete/",
        views.ListingDeleteView.as_view(),
        name="listing_delete",
    ),
    path("manage/tips/", views.TipListView.as_view(), name="tip_list"),
    path("manage/tips/<int:pk>/", views.TipModerateView.as_view(), name="tip_moderate"),
    path(
        "manage/photos/<int:pk>/", views.TipPhotoModeratorView.as_view(), name="tip_photo_moderator"
    ),
    path("manage/card-codes/", views.CardCodesView.as_view(), name="card_codes"),
    # the drivers' API
    path("api/v1/", include("apps.drivers.api.driver_urls")),
]
