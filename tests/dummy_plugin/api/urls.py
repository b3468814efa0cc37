from django.urls import path

from tests.dummy_plugin.api import views

urlpatterns = [path("notes", views.NotesView.as_view(), name="notes")]
