from django.urls import path

from . import views

app_name = "security"

urlpatterns = [
    path("oauth/callback/", views.oauth_callback, name="oauth-callback"),
]
