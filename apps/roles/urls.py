from django.urls import path

from . import views

app_name = "roles"

urlpatterns = [
    path("", views.RoleAssignmentListView.as_view(), name="assignment_list"),
    path("invite/", views.PersonInviteView.as_view(), name="assignment_invite"),
    path("grant/", views.RoleGrantView.as_view(), name="assignment_grant"),
    path("<int:pk>/revoke/", views.RoleRevokeView.as_view(), name="assignment_revoke"),
    path("welcome/<uidb64>/<token>/", views.WelcomeView.as_view(), name="welcome"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api_key_list"),
    path("api-keys/new/", views.ApiKeyCreateView.as_view(), name="api_key_create"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
]
