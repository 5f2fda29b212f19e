"""`django`: a minimal view in Django, configured in this one module (no project
folder): its URL routing, request and response objects and
CommonMiddleware; no database, no sessions."""

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    # CommonMiddleware sets Content-Length, as in any real project.
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    INSTALLED_APPS=[],
    SECRET_KEY="wsgibench: no sessions, no signing",
    USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def index(request):
    return JsonResponse({"message": "Pong!", "framework": "django"})


urlpatterns = [path("", index)]

app = get_wsgi_application()
