"""The drivers' API, under /drivers/api/v1/ (their own data only, and the public finder)."""

from django.urls import path

from . import views

urlpatterns = [
    path("finder/stations/", views.FinderStationsView.as_view(), name="api_finder_stations"),
    path("me/", views.MeView.as_view(), name="api_me"),
    path("cards/", views.CardListView.as_view(), name="api_cards"),
    path("cards/<int:pk>/", views.CardDetailView.as_view(), name="api_card"),
    path("cards/<int:pk>/verify/", views.CardVerifyView.as_view(), name="api_card_verify"),
    path("sessions/", views.SessionListView.as_view(), name="api_sessions"),
    path("sessions/<int:pk>/", views.SessionDetailView.as_view(), name="api_session"),
    path("tips/", views.TipCreateView.as_view(), name="api_tips"),
    path("tips/<int:pk>/vote/", views.TipVoteView.as_view(), name="api_tip_vote"),
]
