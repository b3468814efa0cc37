"""The catalog's pages, at Backstage's URLs (/catalog, /catalog/{namespace}/{kind}/{name},
/api-docs, /catalog-import) so bookmarks and links from a Backstage install keep working.
/docs belongs to TechDocs (techdocs/urls.py)."""

from django.urls import path

from catalog import views

app_name = "catalog"

_ENTITY = "catalog/<str:namespace>/<str:kind>/<str:name>"

urlpatterns = [
    path("catalog", views.entity_list, name="entity_list"),
    path("catalog/owners", views.owner_suggestions, name="owner_suggestions"),
    path(_ENTITY, views.entity_detail, name="entity_detail"),
    path(f"{_ENTITY}/graph", views.entity_graph, name="entity_graph"),
    path(f"{_ENTITY}/star", views.toggle_star, name="toggle_star"),
    path(f"{_ENTITY}/refresh", views.refresh_entity, name="refresh_entity"),
    path(f"{_ENTITY}/unregister", views.unregister_entity, name="unregister_entity"),
    path(f"{_ENTITY}/<str:tab>", views.entity_detail, name="entity_tab"),
    path("api-docs", views.api_list, name="api_list"),
    path("catalog-import", views.catalog_import, name="catalog_import"),
    path("locations", views.location_list, name="location_list"),
    path("locations/<uuid:location_id>", views.location_row, name="location_row"),
    path("locations/<uuid:location_id>/refresh", views.refresh_location, name="refresh_location"),
    path("create", views.create_home, name="create_home"),
]
