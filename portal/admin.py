"""Admin screens for what admins configure: the home page's onboarding links."""

from django.contrib import admin

from portal.models import OnboardingLink


@admin.register(OnboardingLink)
class OnboardingLinkAdmin(admin.ModelAdmin):
    list_display = ("title", "url", "position")
    list_editable = ("position",)
    ordering = ("position", "title")
