"""Sign-in: pages need a signed-in person; local accounts, GitHub and the demo's guest.

The JSON APIs keep their own rule (portal.api.auth: reads open, writes need a token or a
session), so the middleware leaves /api/ alone, as it does health checks, static files and
the sign-in pages themselves.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

GUEST_USERNAME = "guest"
_OPEN_PREFIXES = ("/api/", "/accounts/", "/healthz", "/static/", "/admin/")


class SignInRequiredMiddleware(LoginRequiredMiddleware):
    """Send people who are not signed in to the sign-in page (pages only, not the APIs)."""

    def process_view(self, request, view_func, view_args, view_kwargs):  # type: ignore[override]
        if request.path.startswith(_OPEN_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.GREENROOM_SIGNUP_OPEN


class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:  # type: ignore[override]
        # Whoever the configured OAuth app lets in gets an account: the provider (e.g. a
        # GitHub organisation's OAuth app) is the gate, as in Backstage's resolvers.
        return True


@require_POST
def guest_signin(request: HttpRequest) -> HttpResponse:
    """Sign in as the shared guest account (only when the demo turns it on)."""
    if not settings.GREENROOM_GUEST_SIGNIN:
        raise Http404("guest sign-in is off")
    guest, _ = get_user_model().objects.get_or_create(
        username=GUEST_USERNAME, defaults={"first_name": "Guest"}
    )
    login(request, guest, backend="django.contrib.auth.backends.ModelBackend")
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)
