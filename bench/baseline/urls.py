from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from . import views

accounts = (
    [
        path("login/", views.login_view, name="login"),
        path("logout/", LogoutView.as_view(next_page="home"), name="logout"),
        path("profile/", views.profile, name="profile"),
        path("sessions/", views.sessions, name="sessions"),
        path("avatar/", views.not_measured, name="avatar_upload"),
        path("avatar/remove/", views.not_measured, name="avatar_remove"),
        path("avatar/<str:version>/<int:size>/", views.not_measured, name="avatar_image"),
        path("sessions/end/", views.not_measured, name="session_end"),
        path("sessions/end-others/", views.not_measured, name="sessions_end_others"),
        path("signup/", views.not_measured, name="signup"),
        path("password/", views.not_measured, name="password_change"),
        path("password/reset/", views.not_measured, name="password_reset"),
        path("delete/", views.not_measured, name="delete"),
        path("verify/resend/", views.not_measured, name="verify_resend"),
    ],
    "accounts",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include(accounts)),
    path("jobs/", include(([path("", views.not_measured, name="list")], "jobs"))),
    path("contact/", include(([path("", views.not_measured, name="contact")], "contact"))),
    path("admin/", admin.site.urls),
]
