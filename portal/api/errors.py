"""Errors in Backstage's shape, so clients written for Backstage read ours unchanged.

{"error": {"name": "NotFoundError", "message": "…"},
 "request": {"method": "GET", "url": "/entities/by-name/component/default/x"},
 "response": {"statusCode": 404}}
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("portal.api")

# Backstage's error class names by status code (@backstage/errors).
ERROR_NAMES = {
    400: "InputError",
    401: "AuthenticationError",
    403: "NotAllowedError",
    404: "NotFoundError",
    405: "NotAllowedError",
    409: "ConflictError",
    413: "InputError",
    415: "InputError",
    500: "Error",
}


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "conflict"
    default_code = "conflict"


def error_response(request: Any, status_code: int, message: str) -> Response:
    """Return a Backstage-shaped error response."""
    path = request.path
    # Backstage reports URLs relative to the plugin's base (/api/catalog).
    for prefix in ("/api/catalog",):
        if path.startswith(prefix):
            path = path[len(prefix) :] or "/"
    query = request.META.get("QUERY_STRING")
    return Response(
        {
            "error": {"name": ERROR_NAMES.get(status_code, "Error"), "message": message},
            "request": {"method": request.method, "url": path + (f"?{query}" if query else "")},
            "response": {"statusCode": status_code},
        },
        status=status_code,
    )


def _message(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_message(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(_message(item) for item in detail)
    return str(detail)


def backstage_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler producing Backstage's error envelope."""
    request = context["request"]
    if isinstance(exc, Http404):
        return error_response(request, 404, str(exc) or "Not found")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        # Backstage's JSON body parser answers other media types with a 400 input error.
        return error_response(
            request, 400, f"{exc.detail} Send the body as JSON (Content-Type: application/json)."
        )
    if isinstance(exc, RequestDataTooBig):
        return error_response(
            request,
            400,
            f"the request body is over the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes",
        )
    if isinstance(exc, exceptions.NotAuthenticated):
        # Backstage answers a missing credential with 401, not DRF's session-auth 403.
        return error_response(request, status.HTTP_401_UNAUTHORIZED, str(exc.detail))
    if isinstance(exc, exceptions.APIException):
        response = error_response(request, exc.status_code, _message(exc.detail))
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    response = exception_handler(exc, context)
    if response is not None:
        return response
    # Anything else is our bug: log it whole, and answer in the shape clients parse.
    logger.exception("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return error_response(request, 500, f"internal error ({exc.__class__.__name__})")


def api_not_found(request: Any, *args: Any, **kwargs: Any) -> JsonResponse:
    """A JSON 404 for any unknown path under /api/, instead of Django's HTML page."""
    response = error_response(request, 404, f"no API route at {request.path}")
    return JsonResponse(response.data, status=404)
