"""Root URLs. Each app mounts its own URL module here."""

from django.contrib import admin
from django.urls import include, path

from portal.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/catalog/", include("catalog.api.urls")),
]
