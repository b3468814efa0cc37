"""Root URLs. Each app mounts its own URL module here."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from portal.api.errors import api_not_found
from portal.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # The OpenAPI description of every API route (JSON with ?format=json, else YAML).
    path("api/openapi", SpectacularAPIView.as_view(), name="openapi"),
    path("api/catalog/", include("catalog.api.urls")),
    re_path(r"^api/", api_not_found),  # last: unknown API paths get a JSON 404
]
