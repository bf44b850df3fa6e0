"""The Content-Security-Policy the console's pages are served with: what a page may load, and from where."""

from __future__ import annotations

import pytest

from csms.operator.console import content_security_policy


def directives(policy: str) -> dict[str, set[str]]:
    return {name: set(sources) for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("signs_in", [False, True])
def test_scripts_and_styles_come_from_the_console_only_and_it_is_never_framed(signs_in):
    policy = directives(content_security_policy(signs_in=signs_in))
    assert policy["script-src"] == policy["style-src"] == policy["default-src"] == {"'self'"}
    assert policy["frame-ancestors"] == {"'none'"} and policy["base-uri"] == {"'none'"}


@pytest.mark.parametrize("signs_in", [False, True])
def test_images_may_be_the_pages_own_blobs(signs_in):
    # Signed in, a QR code is fetched with the operator's token and shown from a blob: URL (an <img> sends no token).
    assert directives(content_security_policy(signs_in=signs_in))["img-src"] == {"'self'", "data:", "blob:"}


def test_only_a_console_that_signs_in_calls_other_origins_and_only_over_https():
    assert directives(content_security_policy(signs_in=False))["connect-src"] == {"'self'"}
    assert directives(content_security_policy(signs_in=True))["connect-src"] == {"'self'", "https:"}
