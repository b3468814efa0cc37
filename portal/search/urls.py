"""The search page and the header box's suggestions."""

from django.urls import path

from portal.search import views

urlpatterns = [
    path("search", views.search_page, name="search"),
    path("search/suggestions", views.suggestions, name="search_suggestions"),
]
