"""Webhook secrets at rest: sealed with a key kept apart from the database (`store.sealed`),
verify tokens hashed; older databases' clear values still work until set again."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from convoscope.store import Store
from convoscope.store.sealed import KEY_ENV, SecretKeyError, comparable, digest


def test_secrets_are_sealed_with_a_key_beside_the_database(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ensure_workspace("shop")
        store.set_shopify("shop", "shpss_the_secret", "maple.myshopify.com")
        store.set_whatsapp("shop", "meta_app_secret", "verify-me", ["1122"])
        stored = store.con.execute(
            "SELECT shopify_secret, whatsapp_app_secret, whatsapp_verify_token FROM workspaces"
        ).fetchone()
        assert stored is not None
        assert "shpss_the_secret" not in stored[0] and "meta_app_secret" not in stored[1]
        assert stored[2] == digest("verify-me")
        assert store.shopify_shop("maple.myshopify.com") == ("shop", "shpss_the_secret")
        assert store.whatsapp_numbers() == {"1122": ("shop", "meta_app_secret")}
    key = tmp_path / "s.duckdb.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"shpss_the_secret" not in db.read_bytes()
    with Store(db) as store:  # another process: the same key file
        assert store.shopify_shop("maple.myshopify.com") == ("shop", "shpss_the_secret")
    key.write_bytes(Fernet.generate_key())  # a lost key: said plainly
    with Store(db) as store, pytest.raises(SecretKeyError, match="set it again"):
        store.shopify_shop("maple.myshopify.com")


def test_the_key_may_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())
    with Store(tmp_path / "e.duckdb") as store:
        store.ensure_workspace("shop")
        store.set_shopify("shop", "s3cret", "x.myshopify.com")
        assert store.shopify_shop("x.myshopify.com") == ("shop", "s3cret")
    assert not (tmp_path / "e.duckdb.key").exists()
    monkeypatch.setenv(KEY_ENV, "not a key")
    with Store(tmp_path / "e.duckdb") as store, pytest.raises(SecretKeyError, match=KEY_ENV):
        store.shopify_shop("x.myshopify.com")


def test_values_an_older_version_stored_in_clear_still_work(tmp_path):
    with Store(tmp_path / "old.duckdb") as store:
        store.ensure_workspace("shop")
        store.set_whatsapp("shop", "x", "y", ["1122"])
        store.con.execute(
            "UPDATE workspaces SET whatsapp_app_secret = 'clear', whatsapp_verify_token = 'tok'"
        )
        assert store.whatsapp_numbers() == {"1122": ("shop", "clear")}
        (stored,) = store.whatsapp_verify_tokens()
        assert comparable("tok", stored) == ("tok", "tok")
        assert comparable("tok", digest("tok")) == (digest("tok"), digest("tok"))
