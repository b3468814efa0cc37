"""Root URLs. Each app mounts its own URL module here."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from portal import signin, views
from portal.api.errors import api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/guest/", signin.guest_signin, name="guest_signin"),
    path("accounts/", include("allauth.urls")),
    path("", views.home, name="home"),
    path("settings", views.settings_page, name="settings"),
    path("", include("catalog.urls")),
    # The OpenAPI description of every API route (JSON with ?format=json, else YAML).
    path("api/openapi", SpectacularAPIView.as_view(), name="openapi"),
    path("api/catalog/", include("catalog.api.urls")),
    re_path(r"^api/", api_not_found),  # last: unknown API paths get a JSON 404
]
