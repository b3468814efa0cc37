"""Routes of Backstage's search API, mounted at /api/search/."""

from django.urls import path

from portal.search import api

app_name = "search-api"

urlpatterns = [path("query", api.SearchQueryView.as_view(), name="query")]
