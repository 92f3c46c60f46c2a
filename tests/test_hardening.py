"""Start-up and sign-in hardening from issue 9."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _start(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "pricing_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_a_secret_key_and_debug_off_the_site_does_not_start(tmp_path):
    result = _start({"SECRET_KEY_FILE": str(tmp_path / "none"), "DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_published_or_short_key_is_refused(tmp_path):
    result = _start({"SECRET_KEY": "django-insecure-" + "x" * 40, "DEBUG": "0"})
    assert result.returncode != 0 and "SECRET_KEY must be" in result.stderr
    assert _start({"SECRET_KEY": "short", "DEBUG": "0"}).returncode != 0


def test_a_key_from_the_environment_or_the_key_file_starts_it(tmp_path):
    assert _start({"SECRET_KEY": "k" * 50, "DEBUG": "0"}).returncode == 0
    key_file = tmp_path / "key"
    key_file.write_text("f" * 50 + "\n")
    assert _start({"SECRET_KEY_FILE": str(key_file), "DEBUG": "0"}).returncode == 0


def test_debug_without_a_key_uses_a_random_one(tmp_path):
    assert _start({"SECRET_KEY_FILE": str(tmp_path / "none"), "DEBUG": "1"}).returncode == 0


@pytest.mark.django_db
def test_fifty_wrong_passwords_then_the_right_one_is_refused(client, bob, settings):
    settings.LOGIN_MAX_FAILURES = 10
    from django.core.cache import cache

    cache.clear()
    for _ in range(50):
        response = client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "bob", "password": "pw-bob-123"})
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # another address is refused for bob too (the user name's count), while another user
    # signs in fine from elsewhere
    other = client.post(
        "/accounts/login/",
        {"username": "bob", "password": "pw-bob-123"},
        REMOTE_ADDR="198.51.100.1",
    )
    assert "Too many failed" in other.content.decode()


@pytest.mark.django_db
def test_a_few_mistakes_then_the_right_password_signs_in(client, bob, settings):
    settings.LOGIN_MAX_FAILURES = 10
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "bob", "password": "pw-bob-123"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_an_unknown_api_route_is_a_json_404_and_a_page_404_is_in_the_layout(client):
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api["Content-Type"] == "application/json"
    page = client.get("/prices/nobody/nothing/")
    assert page.status_code == 404
    html = page.content.decode()
    assert 'class="site-header"' in html and "price list" in html


def test_the_500_page_renders_without_a_request_context(rf):
    from apps.common.errors import server_error

    response = server_error(rf.get("/prices/"))
    assert response.status_code == 500 and b"Something went wrong" in response.content
    api = server_error(rf.get("/api/v1/estimate"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
