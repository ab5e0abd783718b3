from django.urls import path
from django.views.generic import RedirectView

app_name = "core"

urlpatterns = [
    # The portal's home is the live dashboard (apps.dashboard); the core imports no feature app.
    path("", RedirectView.as_view(pattern_name="dashboard:home"), name="dashboard"),
]
