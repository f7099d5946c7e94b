from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Integration platform"
admin.site.site_title = "Integration platform"
admin.site.index_title = "Console"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("security/", include("apps.security.urls")),
]
