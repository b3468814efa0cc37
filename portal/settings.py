"""Greenroom settings, read only from the environment (see .env.example).

The defaults are the embedded shape: a SQLite file under ./data, no broker, background work
in-process, so `python manage.py runserver` alone is a complete portal. Set DATABASE_URL and
CELERY_BROKER_URL for the production shape (PostgreSQL, Redis, Celery worker and beat).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_json_object, env_list, env_secret, env_str
from portal.plugins import load_plugins

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("GREENROOM_DATA_DIR", str(BASE_DIR / "data"))).resolve()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("GREENROOM_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    # Embedded/demo use only: a fixed key keeps sessions valid across restarts of one checkout.
    SECRET_KEY = "greenroom-insecure-development-key-change-me"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc files, served locally
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "portal",
    "catalog",
    "techdocs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.signin.SignInRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.layout",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'greenroom.sqlite3'}")
try:
    _default_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from exc
if _default_db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web thread read while the in-process worker writes; IMMEDIATE transactions
    # take the write lock up front, so two writers queue on the timeout instead of deadlocking.
    _default_db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (not :memory:) so a Celery worker process in the tests can share the test database.
    _default_db["TEST"] = {"NAME": str(DATA_DIR / "test-greenroom.sqlite3")}
    _default_db["CONN_MAX_AGE"] = 0
elif _default_db["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs ~300 ms per query over the whole catalog (facets, counts): far more
    # than it saves on queries that take tens of milliseconds.
    _default_db.setdefault("OPTIONS", {})["options"] = "-c jit=off"
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery / background work ---------------------------------------------------------------
# Empty broker URL = embedded mode: tasks run on a thread pool inside this process
# (portal.background), and periodic refreshes on a timer thread, so no Redis and no second
# process are needed. With a broker, the same tasks go to Celery workers and beat.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# With queue_order_strategy=priority a worker always drains the queue listed first
# (ingest-priority) before the others: new registrations never wait behind a periodic backlog.
CELERY_BROKER_TRANSPORT_OPTIONS = {"queue_order_strategy": "priority", "visibility_timeout": 3600}
# Urgent work goes to "<queue>-priority" (portal.background.dispatch).
CELERY_TASK_ROUTES = {
    "catalog.tasks.*": {"queue": "ingest"},
    "techdocs.tasks.*": {"queue": "default"},
}
CELERY_BEAT_SCHEDULE = {
    "catalog-schedule-refreshes": {
        "task": "catalog.tasks.schedule_refreshes_task",
        "schedule": float(env_int("GREENROOM_SCHEDULER_TICK_SECONDS", 10)),
        "options": {"queue": "ingest-priority", "expires": 30},
    },
    # Plugins' search collators: each pass replaces a type's documents, skipping unchanged.
    "search-refresh-collators": {
        "task": "portal.tasks.refresh_search_collators_task",
        "schedule": float(env_int("GREENROOM_SEARCH_COLLATOR_SECONDS", 600)),
        "options": {"queue": "default", "expires": 600},
    },
    # TechDocs: check every documented entity's sources; build only what changed.
    "techdocs-check-sites": {
        "task": "techdocs.tasks.check_sites_task",
        "schedule": float(env_int("GREENROOM_TECHDOCS_CHECK_SECONDS", 300)),
        "options": {"queue": "default", "expires": 300},
    },
}
CELERY_TIMEZONE = "UTC"
# Embedded mode runs tasks inline in the caller when set (used by tests and `--wait` commands).
GREENROOM_TASKS_INLINE = env_bool("GREENROOM_TASKS_INLINE", False)
GREENROOM_INPROCESS_WORKERS = env_int("GREENROOM_INPROCESS_WORKERS", 1)
# How many batches of one ingestion run may be worked on at once (one per worker process).
GREENROOM_INGEST_LANES = env_int("GREENROOM_INGEST_LANES", 2)

# A cache the web processes share (and Celery workers fill: see GREENROOM_WARM_CATALOG_PAGES):
# redis://host:6379/1. Without it each process keeps its own in memory.
GREENROOM_CACHE_URL = env_str("GREENROOM_CACHE_URL", "")
if GREENROOM_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": GREENROOM_CACHE_URL,
            "KEY_PREFIX": "greenroom",
        }
    }
# After a run changes the catalog, compute the catalog page's counts and options at once.
GREENROOM_WARM_CATALOG_PAGES = env_bool("GREENROOM_WARM_CATALOG_PAGES", True)

# --- Plugins (docs/plugins.md) ----------------------------------------------------------------
# PORTAL_PLUGINS=plugins.kubernetes,acme_costs enables plugins; PORTAL_PLUGINS_CONFIG (JSON) or
# PORTAL_PLUGINS_CONFIG_FILE (YAML or JSON) holds {plugin: {setting: value}}. Each enabled
# plugin is checked here: a missing or invalid setting stops start-up, naming both.
PORTAL_PLUGINS = env_list("PORTAL_PLUGINS", [])
_plugins = load_plugins(PORTAL_PLUGINS, env_json_object("PORTAL_PLUGINS_CONFIG"))
# Django finds each plugin's config through the package's exported `config`.
INSTALLED_APPS += [f"{name}.config" for name in _plugins.apps]
PORTAL_PLUGINS_CONFIG = _plugins.config
CELERY_BEAT_SCHEDULE.update(_plugins.beat_schedule)

# --- Catalog configuration (Backstage's app-config.yaml equivalent) -----------------------------
GREENROOM_CONFIG = Path(
    env_str("GREENROOM_CONFIG", str(BASE_DIR / "config" / "greenroom.yaml"))
).resolve()

# --- TechDocs ------------------------------------------------------------------------------
# local: Greenroom builds docs with mkdocs; external: CI publishes (`manage.py techdocs publish`)
# and Greenroom only serves what was published.
GREENROOM_TECHDOCS_BUILDER = env_str("GREENROOM_TECHDOCS_BUILDER", "local")
if GREENROOM_TECHDOCS_BUILDER not in {"local", "external"}:
    raise ImproperlyConfigured("GREENROOM_TECHDOCS_BUILDER must be 'local' or 'external'")
GREENROOM_TECHDOCS_BUILD_TIMEOUT = env_int("GREENROOM_TECHDOCS_BUILD_TIMEOUT", 120)
# Where published sites live: a folder (default DATA_DIR/techdocs).
GREENROOM_TECHDOCS_STORAGE = env_str("GREENROOM_TECHDOCS_STORAGE", "local")
if GREENROOM_TECHDOCS_STORAGE not in {"local"}:
    raise ImproperlyConfigured("GREENROOM_TECHDOCS_STORAGE must be 'local' (S3 is not built yet)")
GREENROOM_TECHDOCS_DIR = Path(
    env_str("GREENROOM_TECHDOCS_DIR", str(DATA_DIR / "techdocs"))
).resolve()
# Largest docs source (mkdocs.yml folder) a build copies, in bytes.
GREENROOM_TECHDOCS_MAX_SOURCE_BYTES = env_int("GREENROOM_TECHDOCS_MAX_SOURCE_BYTES", 200_000_000)

# --- The rest -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files in every shape (runserver without DEBUG, gunicorn); from the
# app folders directly unless `collectstatic` has filled STATIC_ROOT.
WHITENOISE_USE_FINDERS = env_bool("GREENROOM_STATIC_FROM_APPS", True)

# --- Sign-in (django-allauth) and who a person is in the catalog ------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "portal.signin.PortalAccountAdapter"
SOCIALACCOUNT_ADAPTER = "portal.signin.PortalSocialAccountAdapter"
SOCIALACCOUNT_LOGIN_ON_GET = False  # the provider button posts, with CSRF
SOCIALACCOUNT_ONLY = False
# Accounts are made by admins (`createsuperuser`, the admin site) or by an OAuth provider;
# open self-service sign-up only where a portal wants it.
GREENROOM_SIGNUP_OPEN = env_bool("GREENROOM_SIGNUP_OPEN", False)
# The demo's one-click guest sign-in (`make run` turns it on). Guests may browse and register.
GREENROOM_GUEST_SIGNIN = env_bool("GREENROOM_GUEST_SIGNIN", False)
# GitHub sign-in, when an OAuth app is configured (GITHUB_URL for GitHub Enterprise).
GITHUB_CLIENT_ID = env_str("GITHUB_CLIENT_ID", "")
GITHUB_CLIENT_SECRET = env_secret("GITHUB_CLIENT_SECRET", "")
SOCIALACCOUNT_PROVIDERS: dict[str, dict] = {"github": {"SCOPE": ["read:user", "user:email"]}}
if GITHUB_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["github"]["APPS"] = [
        {"client_id": GITHUB_CLIENT_ID, "secret": GITHUB_CLIENT_SECRET, "key": ""}
    ]
    if env_str("GITHUB_URL", ""):
        SOCIALACCOUNT_PROVIDERS["github"]["GITHUB_URL"] = env_str("GITHUB_URL", "")
# How a signed-in person is matched to a catalog User entity: by "username" (metadata.name)
# or by "email" (spec.profile.email).
GREENROOM_IDENTITY_MATCH = env_str("GREENROOM_IDENTITY_MATCH", "username")
if GREENROOM_IDENTITY_MATCH not in {"username", "email"}:
    raise ImproperlyConfigured("GREENROOM_IDENTITY_MATCH must be 'username' or 'email'")

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "portal.api.errors.backstage_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.auth.ReadOpenWriteAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.PortalAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Greenroom API",
    "DESCRIPTION": "Backstage-compatible catalog API of the Greenroom developer portal.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}
# Largest request body the API reads (by-refs and by-query bodies, validate-entity).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("GREENROOM_MAX_REQUEST_BYTES", 2_621_440)

# Service tokens given in settings, beside those made with `manage.py api_token`:
# GREENROOM_API_TOKENS="ci=<token>,backup=<token>" (each at least 24 characters).
API_TOKENS: dict[str, str] = {}
for _item in env_list("GREENROOM_API_TOKENS", []):
    _name, _sep, _token = _item.partition("=")
    if not _sep or not _name.strip() or len(_token.strip()) < 24:
        raise ImproperlyConfigured(
            "GREENROOM_API_TOKENS must be name=token pairs with tokens of 24+ characters"
        )
    API_TOKENS[_name.strip()] = _token.strip()
# Reads of the catalog API are open to anyone who can reach the portal unless this is set.
API_READS_REQUIRE_AUTH = env_bool("GREENROOM_API_READS_REQUIRE_AUTH", False)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "catalog": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "portal": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "techdocs": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

DATA_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT.mkdir(exist_ok=True)
