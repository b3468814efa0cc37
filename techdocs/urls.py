"""TechDocs pages at Backstage's URLs: /docs and /docs/{namespace}/{kind}/{name}/{page}."""

from django.urls import path

from techdocs import views

app_name = "techdocs"

_ENTITY = "docs/<str:namespace>/<str:kind>/<str:name>"

urlpatterns = [
    path("docs", views.docs_home, name="docs_home"),
    path(f"{_ENTITY}/-/status", views.build_status, name="build_status"),
    path(f"{_ENTITY}/-/build", views.request_build, name="request_build"),
    path(f"{_ENTITY}/", views.reader_page, name="reader"),
    path(f"{_ENTITY}/<path:path>", views.reader_page, name="reader_page"),
]
