from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("environ", views.environ, name="environ"),
    path("form", views.form, name="form"),
    path("upload", views.upload, name="upload"),
    path("stream", views.stream, name="stream"),
    path("file", views.download, name="file"),
    path("error", views.error, name="error"),
]
