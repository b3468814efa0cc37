"""Routes of Backstage's TechDocs API, mounted at /api/techdocs/."""

from django.urls import path

from techdocs.api import views

app_name = "techdocs-api"

_TRIPLET = "<str:namespace>/<str:kind>/<str:name>"

urlpatterns = [
    path(f"static/docs/{_TRIPLET}/", views.StaticDocsView.as_view(), name="static-root"),
    path(f"static/docs/{_TRIPLET}/<path:path>", views.StaticDocsView.as_view(), name="static"),
    path(f"metadata/techdocs/{_TRIPLET}", views.TechDocsMetadataView.as_view(), name="metadata"),
    path(f"metadata/entity/{_TRIPLET}", views.EntityMetadataView.as_view(), name="entity"),
    path(f"sync/{_TRIPLET}", views.SyncView.as_view(), name="sync"),
]
