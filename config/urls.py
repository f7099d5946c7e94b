from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.generic import RedirectView

# The platform's mark: a small SVG, so that no page's favicon request is a 404.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#417690"/>'
    '<path d="M3 5h6M7 3l2 2-2 2M13 11H7M9 9l-2 2 2 2" stroke="#fff" stroke-width="1.5" '
    'fill="none"/></svg>'
)


@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponse(FAVICON, content_type="image/svg+xml")


admin.site.site_header = "Integration platform"
admin.site.site_title = "Integration platform"
admin.site.index_title = "Console"

urlpatterns = [
    # "View site" and a bare visit land in the console.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/connector-factory/", include("apps.connector_factory.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("security/", include("apps.security.urls")),
]
