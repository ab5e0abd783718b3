from django.urls import path

from . import views

app_name = "valet"

urlpatterns = [
    path("", views.BoardHomeView.as_view(), name="home"),
    path("sites/<int:site_id>/", views.BoardView.as_view(), name="board"),
    path("sites/<int:site_id>/rows/", views.BoardRowsView.as_view(), name="board_rows"),
    path("sessions/<int:pk>/moved/", views.CarMovedView.as_view(), name="car_moved"),
    path("sessions/<int:pk>/assign/", views.CarAssignView.as_view(), name="car_assign"),
    path("sessions/<int:pk>/notify/", views.DriverNotifyView.as_view(), name="driver_notify"),
]
