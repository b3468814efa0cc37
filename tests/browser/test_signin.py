"""Signing in and out: every page needs a signed-in person; local accounts, the guest, sign-out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, screenshot

SIGN_IN_URL = re.compile(r"/accounts/login/")


def test_it_sends_a_signed_out_visitor_to_sign_in_and_back_after_signing_in(
    page: Page, alice, demo_catalog
):
    # given nobody is signed in

    # when
    page.goto("/catalog")

    # then
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=(/|%2F)catalog$"))
    expect(page.get_by_role("heading", name="Sign in to Greenroom")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    screenshot(page, "signin")

    # when
    page.get_by_label("Username or email").fill("alice.nguyen")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog$"))
    expect(page.get_by_role("heading", name="Catalog", exact=True)).to_be_visible()
    expect(page.locator(".portal-user")).to_contain_text("Alice")


def test_it_refuses_a_wrong_password_with_an_error(page: Page, alice):
    # given
    page.goto("/accounts/login/")

    # when
    page.get_by_label("Username or email").fill("alice.nguyen")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()

    # then
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    expect(page).to_have_url(SIGN_IN_URL)
    expect(page.get_by_label("Username or email")).to_have_value("alice.nguyen")
    page.goto("/catalog")
    expect(page).to_have_url(SIGN_IN_URL)


def test_it_signs_in_as_the_guest_with_the_guest_button(page: Page, transactional_db):
    # given
    page.goto("/catalog")

    # when
    page.get_by_role("button", name="Enter as guest").click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog$"))
    expect(page.locator(".portal-user")).to_contain_text("Guest")
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome, Guest")).to_be_visible()


def test_it_signs_out(signed_in: Page):
    # given
    page = signed_in
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome, Alice")).to_be_visible()

    # when
    page.get_by_role("button", name="Sign out").click()

    # then
    expect(page).to_have_url(SIGN_IN_URL)
    page.goto("/catalog")
    expect(page).to_have_url(SIGN_IN_URL)
    expect(page.get_by_role("heading", name="Sign in to Greenroom")).to_be_visible()
