from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from connector_site import status

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("status/", status.status_page, name="status"),
    path("status.json", status.status_json, name="status-json"),
    path("admin/", admin.site.urls),
    path("", include("web.urls")),
]

# The site's own 400 page, saying what was wrong; 403, 404 and 500 use Django's views with
# templates/403.html, 404.html and 500.html.
handler400 = "connector_site.error_pages.bad_request"
