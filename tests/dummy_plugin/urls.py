from django.urls import path

from tests.dummy_plugin import views

urlpatterns = [path("", views.index, name="index")]
