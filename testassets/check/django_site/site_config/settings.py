"""A Django project for `tapster check`: production-ready unless DJANGO_* variables make it otherwise."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# startproject's own placeholder, unless the environment gives a real key.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-3x@mpl3k3y-from-startproject-0123456789abcdefgh")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "example.com").split(",")
INSTALLED_APPS = ["notes"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "site_config.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
SESSION_COOKIE_SECURE = os.environ.get("DJANGO_INSECURE_COOKIES") != "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if os.environ.get("DJANGO_MEDIA_ROOT"):
    MEDIA_ROOT = os.environ["DJANGO_MEDIA_ROOT"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Errors in requests logged to stderr, one event each in Tapster's log, unless DJANGO_NO_LOGGING is set
# (then Django's default: the console only with DEBUG on, mail to ADMINS).
if os.environ.get("DJANGO_NO_LOGGING") != "1":
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
    }
