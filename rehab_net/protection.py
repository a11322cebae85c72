"""Encryption at rest for identifiers (resident ID numbers, certificate numbers).

- AES-256-GCM with a random 96-bit nonce per value; the column name is bound in as associated data,
  so a ciphertext moved to another column does not decrypt. Stored as text:
  ``v1:<key id>:<base64(nonce + ciphertext + tag)>``; the key id makes rotation possible: any
  configured key decrypts, the first (current) one encrypts.
- An HMAC-SHA256 "blind index" of the normalised number for exact lookup and uniqueness (an
  AES-GCM ciphertext is different every time, so it can neither be searched nor be unique).

Keys come from configuration (REHAB_DATA_KEYS, REHAB_INDEX_KEY), never from the database. The
keyring is process-wide because the column type needs it wherever rows are written: web, worker,
CLI and migrations alike.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

PREFIX = "v1"


class KeyError_(RuntimeError):  # noqa: N801  (not the builtin KeyError)
    """The keys are missing, malformed, or do not decrypt a stored value."""


@dataclass(frozen=True)
class Keyring:
    current: str                 # key id used for new values
    keys: dict[str, bytes]       # key id -> 32-byte AES key
    index_key: bytes             # HMAC key of the blind index

    @classmethod
    def parse(cls, data_keys: str, index_key: str) -> Keyring:
        """``data_keys``: "id1:base64key,id2:base64key" (first = current); ``index_key``: base64."""
        keys: dict[str, bytes] = {}
        for part in filter(None, (p.strip() for p in (data_keys or "").split(","))):
            kid, sep, b64 = part.partition(":")
            if not sep or not kid.isalnum():
                raise KeyError_("REHAB_DATA_KEYS: each entry is <key id>:<base64 key>, "
                                "the id letters and digits only")
            key = _b64(b64, "REHAB_DATA_KEYS")
            if len(key) != 32:
                raise KeyError_(f"REHAB_DATA_KEYS: key {kid} must be 32 bytes (AES-256)")
            keys[kid] = key
        if not keys:
            raise KeyError_("REHAB_DATA_KEYS is not set")
        index = _b64(index_key or "", "REHAB_INDEX_KEY")
        if len(index) < 32:
            raise KeyError_("REHAB_INDEX_KEY must be at least 32 bytes")
        return cls(current=next(iter(keys)), keys=keys, index_key=index)


def _b64(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except ValueError:
        raise KeyError_(f"{name}: not valid base64") from None


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


_keyring: Keyring | None = None


def configure(keyring: Keyring) -> None:
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise KeyError_("personal-data keys are not configured (create_app does it)")
    return _keyring


def encrypt(plain: str, column: str) -> str:
    ring = keyring()
    nonce = os.urandom(12)
    sealed = AESGCM(ring.keys[ring.current]).encrypt(nonce, plain.encode(), column.encode())
    return f"{PREFIX}:{ring.current}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(stored: str, column: str) -> str:
    try:
        prefix, kid, b64 = stored.split(":", 2)
    except ValueError:
        raise KeyError_(f"{column}: stored value is not an encrypted envelope") from None
    key = keyring().keys.get(kid)
    if prefix != PREFIX or key is None:
        raise KeyError_(f"{column}: no configured key {kid!r} to decrypt it")
    raw = base64.b64decode(b64)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], column.encode()).decode()
    except InvalidTag:
        raise KeyError_(f"{column}: value does not decrypt (wrong key or tampered)") from None


def key_id_of(stored: str) -> str:
    return stored.split(":", 2)[1]


def blind_index(value: str) -> str:
    """Keyed hash of the normalised identifier: equal numbers, equal index; no key, no guessing
    (an unkeyed hash of an 18-digit ID with a known structure is brute-forced in minutes)."""
    normalised = value.strip().upper().encode()
    return hmac.new(keyring().index_key, normalised, hashlib.sha256).hexdigest()


class Encrypted(TypeDecorator):
    """A text column holding an identifier, encrypted on the way in, decrypted on the way out.
    Equality comparisons in SQL are meaningless on it: look up through the blind index."""

    impl = String(255)
    cache_ok = True

    def __init__(self, column: str):
        super().__init__()
        self.column = column

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value, self.column)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value, self.column)


# --- rotation -----------------------------------------------------------------------------------
# (table, key column, encrypted column) of every encrypted value.
ENCRYPTED_COLUMNS = (("person", "id", "resident_id"), ("case", "id", "certificate_number"))


def key_usage(connection) -> dict[str, int]:
    """How many stored values each key id encrypts (read as raw text: nothing is decrypted)."""
    from sqlalchemy import column, select, table

    usage: dict[str, int] = {}
    for name, _pk, col in ENCRYPTED_COLUMNS:
        t = table(name, column(col))
        for (value,) in connection.execute(select(t.c[col]).where(t.c[col].is_not(None))):
            kid = key_id_of(value)
            usage[kid] = usage.get(kid, 0) + 1
    return usage


def reencrypt(connection, batch: int = 5000) -> int:
    """Re-encrypt every value not under the current key; returns how many changed. Run it after
    putting a new key first in REHAB_DATA_KEYS; then the old key can be removed."""
    from sqlalchemy import bindparam, column, select, table

    current = keyring().current
    changed = 0
    for name, pk, col in ENCRYPTED_COLUMNS:
        t = table(name, column(pk), column(col))
        stale = [(i, v) for i, v in connection.execute(select(t.c[pk], t.c[col])
                                                       .where(t.c[col].is_not(None)))
                 if key_id_of(v) != current]
        column_name = f"{name}.{col}"
        for start in range(0, len(stale), batch):
            part = stale[start:start + batch]
            connection.execute(
                t.update().where(t.c[pk] == bindparam("b_id")).values({col: bindparam("v")}),
                [{"b_id": i, "v": encrypt(decrypt(v, column_name), column_name)} for i, v in part])
        changed += len(stale)
    return changed
