"""Routes of Backstage's catalog API, mounted at /api/catalog/."""

from django.urls import path

from catalog.api import views

app_name = "catalog-api"

_NAME = "<str:kind>/<str:namespace>/<str:name>"

urlpatterns = [
    path("entities", views.EntityListView.as_view(), name="entity-list"),
    path("entities/by-query", views.EntitiesByQueryView.as_view(), name="entities-by-query"),
    path("entities/by-name/" + _NAME, views.EntityByNameView.as_view(), name="entity-by-name"),
    path(
        "entities/by-name/" + _NAME + "/ancestry",
        views.EntityAncestryView.as_view(),
        name="entity-ancestry",
    ),
    path("entities/by-uid/<str:uid>", views.EntityByUidView.as_view(), name="entity-by-uid"),
    path("entities/by-refs", views.EntitiesByRefsView.as_view(), name="entities-by-refs"),
    path("entity-facets", views.EntityFacetsView.as_view(), name="entity-facets"),
    path("refresh", views.RefreshView.as_view(), name="refresh"),
    path("validate-entity", views.ValidateEntityView.as_view(), name="validate-entity"),
    path("analyze-location", views.AnalyzeLocationView.as_view(), name="analyze-location"),
    path("locations", views.LocationListView.as_view(), name="location-list"),
    path("locations/by-query", views.LocationsByQueryView.as_view(), name="locations-by-query"),
    path(
        "locations/by-entity/" + _NAME,
        views.LocationByEntityView.as_view(),
        name="location-by-entity",
    ),
    path("locations/<str:location_id>", views.LocationDetailView.as_view(), name="location-detail"),
]
