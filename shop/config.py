"""Configuration from environment variables, with safe defaults for the embedded demo."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _instance_secret(instance_path: Path) -> str:
    """A secret key generated once and kept in instance/, so the demo's sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def rate_limit_storage_uri(env=os.environ) -> str:
    """Where Flask-Limiter counts: memory:// (the demo's default) counts in each process on its own."""
    return env.get("RATELIMIT_STORAGE_URI", "memory://")


def per_worker_limits_warning(workers: int, storage_uri: str) -> str | None:
    """The start-up warning for several worker processes that each count rate limits in their own memory.

    Each worker would then allow the full limit, so N workers let through N times the sign-in attempts
    (gunicorn.conf.py logs this when the server starts).
    """
    if workers > 1 and storage_uri.startswith("memory://"):
        return (
            f"{workers} workers keep their rate limits in memory ({storage_uri}): each counts on its own, so every "
            f"limit (sign-in attempts too) lets {workers} times as many requests through. "
            "Set RATELIMIT_STORAGE_URI to a Redis shared by all workers and servers, e.g. redis://127.0.0.1:6379/0."
        )
    return None


def load_config(instance_path: Path) -> dict:
    env = os.environ
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'fupin.sqlite3'}"
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(instance_path / "uploads"),
        # Whole-request ceiling (several photos); each photo has its own, smaller limit.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)),
        "MAX_PHOTO_BYTES": int(env.get("MAX_PHOTO_BYTES", 5 * 1024 * 1024)),
        # Pixels of an uploaded image, checked before decoding (a small PNG can unpack to a huge one): 25 million
        # takes a 24-megapixel camera's 6000 × 4000 and decodes in about 100 MB at most.
        "MAX_IMAGE_PIXELS": int(env.get("MAX_IMAGE_PIXELS", 25_000_000)),
        # werkzeug's scrypt; tests lower the cost, never production.
        "PASSWORD_HASH_METHOD": env.get("PASSWORD_HASH_METHOD", "scrypt"),
        "MAX_DOCUMENT_BYTES": int(env.get("MAX_DOCUMENT_BYTES", 10 * 1024 * 1024)),
        # Certification: the public notice lasts this many working days; a certificate this many years.
        "NOTICE_WORKING_DAYS": int(env.get("NOTICE_WORKING_DAYS", 5)),
        "CERTIFICATE_VALIDITY_YEARS": int(env.get("CERTIFICATE_VALIDITY_YEARS", 2)),
        "VERIFY_RATE_LIMIT": env.get("VERIFY_RATE_LIMIT", "30 per minute"),
        # Orders: unpaid orders expire (and give their stock back) after this many minutes.
        "ORDER_PAYMENT_MINUTES": int(env.get("ORDER_PAYMENT_MINUTES", 30)),
        "REFUND_WINDOW_DAYS": int(env.get("REFUND_WINDOW_DAYS", 7)),
        "AUTO_DELIVERY_DAYS": int(env.get("AUTO_DELIVERY_DAYS", 10)),
        # The platform's fee in basis points of each settled line; fee + household share never exceed 10000.
        "PLATFORM_FEE_BP": int(env.get("PLATFORM_FEE_BP", 0)),
        # Household registry imports (CSV from county offices): a ceiling on the file and on its rows.
        "HOUSEHOLD_IMPORT_MAX_BYTES": int(env.get("HOUSEHOLD_IMPORT_MAX_BYTES", 2 * 1024 * 1024)),
        "HOUSEHOLD_IMPORT_MAX_ROWS": int(env.get("HOUSEHOLD_IMPORT_MAX_ROWS", 5000)),
        # Payments: real Stripe with real keys; offline, the localstripe emulator at STRIPE_API_BASE.
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", "sk_test_localstripe"),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe"),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE") or None,
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_PAYMENT_METHOD_TYPES": env.get("STRIPE_PAYMENT_METHOD_TYPES", "card,alipay,wechat_pay"),
        "STRIPE_JS_URL": env.get("STRIPE_JS_URL") or None,
        # E-mail: sent from the outbox after each commit when MAIL_SERVER is set (`flask notifications send` retries).
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", 25)),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "0") == "1",
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "扶贫好物商城 <noreply@fupin.example>"),
        # Production runs several workers (and servers): their limits must count together, in Redis.
        "RATELIMIT_STORAGE_URI": rate_limit_storage_uri(env),
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        # CSRF is checked by our own before-request hook, after the access rule (see create_app).
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "CATALOG_PER_PAGE": 20,
        "CATALOG_MAX_PER_PAGE": 100,
        # flask-smorest: the OpenAPI document and its interactive docs, served from our own static files.
        "API_TITLE": "Fupin Shop API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
    }
