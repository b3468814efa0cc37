"""The plugin's pages, at /plugins/kubernetes/ under the URL namespace "kubernetes"."""

from __future__ import annotations

from django.urls import path

from plugins.kubernetes import views

urlpatterns = [
    path(
        "entities/<str:namespace>/<str:kind>/<str:name>/objects",
        views.entity_objects,
        name="entity_objects",
    ),
    path("groups/<str:namespace>/<str:name>/workloads", views.group_objects, name="group_objects"),
    path(
        "clusters/<str:cluster>/namespaces/<str:namespace>/pods/<str:pod>/logs",
        views.pod_logs,
        name="pod_logs",
    ),
]
