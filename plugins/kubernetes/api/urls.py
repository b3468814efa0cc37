"""The plugin's API, at /api/kubernetes/ under the URL namespace "kubernetes-api"."""

from __future__ import annotations

from django.urls import path

from plugins.kubernetes.api import views

urlpatterns = [
    path("clusters", views.ClusterListView.as_view(), name="cluster_list"),
    path(
        "entities/<str:namespace>/<str:kind>/<str:name>",
        views.EntityObjectsView.as_view(),
        name="entity_objects",
    ),
    path(
        "clusters/<str:cluster>/namespaces/<str:namespace>/pods/<str:pod>/logs",
        views.PodLogsView.as_view(),
        name="pod_logs",
    ),
]
