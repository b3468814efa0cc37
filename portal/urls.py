"""Root URLs. Each app mounts its own URL module here."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from portal import plugin_pages, signin, views
from portal.api.errors import api_not_found
from portal.plugins import has_module, plugin_config_class

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/guest/", signin.guest_signin, name="guest_signin"),
    path("accounts/", include("allauth.urls")),
    path("", views.home, name="home"),
    path("settings", views.settings_page, name="settings"),
    path("settings/plugins", plugin_pages.plugins_page, name="plugins"),
    path("", include("catalog.urls")),
    path("", include("techdocs.urls")),
    path("", include("portal.search.urls")),
    # The OpenAPI description of every API route (JSON with ?format=json, else YAML).
    path("api/openapi", SpectacularAPIView.as_view(), name="openapi"),
    path("api/catalog/", include("catalog.api.urls")),
    path("api/techdocs/", include("techdocs.api.urls")),
    path("api/search/", include("portal.search.api_urls")),
]

# Each enabled plugin's pages (its urls.py) at /plugins/<base_url>/ and API routes (its
# api/urls.py) at /api/<base_url>/, under the URL namespace <base_url> and <base_url>-api.
for _name in settings.PORTAL_PLUGINS:
    _base = plugin_config_class(_name).base_url
    if has_module(_name, "urls"):
        _pages = include((f"{_name}.urls", _base), namespace=_base)
        urlpatterns.append(path(f"plugins/{_base}/", _pages))
    if has_module(_name, "api.urls"):
        _api = include((f"{_name}.api.urls", f"{_base}-api"), namespace=f"{_base}-api")
        urlpatterns.append(path(f"api/{_base}/", _api))

urlpatterns.append(re_path(r"^api/", api_not_found))  # last: unknown API paths get a JSON 404
