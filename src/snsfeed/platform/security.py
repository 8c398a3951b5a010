"""Password hashing (argon2id), access-token signing (ES256 JWT) and opaque tokens."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from snsfeed.config import Settings
from snsfeed.platform.time import utcnow

ALGORITHM = "ES256"
# Verified access tokens remembered per process (a few hundred bytes each).
_VERIFIED_CACHE_SIZE = 10_000


class KeyConfigError(RuntimeError):
    """The signing key is missing or unusable; raised at start-up."""


def make_password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    )


def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    # Opaque tokens carry 256 random bits, so a fast hash is enough to keep them unusable at rest.
    return hashlib.sha256(token.encode()).hexdigest()


def _kid_for(public_key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 thumbprint of the public JWK: stable across restarts and nodes."""
    numbers = public_key.public_numbers()
    jwk = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    return _b64(hashlib.sha256(canonical).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    private_key: ec.EllipticCurvePrivateKey
    kid: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }


def load_signing_key(settings: Settings) -> SigningKey:
    """Load the PEM key; in embedded mode generate one on first run."""
    path: Path = settings.resolved_jwt_key_file
    if not path.exists():
        if not settings.embedded or settings.jwt_key_file is not None:
            raise KeyConfigError(
                f"JWT signing key not found at {path}. Outside embedded mode set "
                "SNSFEED_JWT_KEY_FILE to a PEM EC P-256 private key "
                "(e.g. `openssl ecparam -name prime256v1 -genkey -noout | "
                "openssl pkcs8 -topk8 -nocrypt -out key.pem`) or run `snsfeed keygen`."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        # Several workers may start at once on a fresh data dir: the first key wins.
        with contextlib.suppress(FileExistsError):
            write_new_key(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigError(f"JWT signing key at {path} is not a readable PEM key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyConfigError(f"JWT signing key at {path} must be an EC P-256 private key")
    return SigningKey(private_key=key, kid=_kid_for(key.public_key()))


def write_new_key(path: Path) -> None:
    """Write a new P-256 key (mode 0600); FileExistsError when ``path`` already exists.

    The PEM is written to a private temporary file and hard-linked into place, so a
    concurrent reader never sees a half-written key.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink()


class TokenSigner:
    def __init__(self, key: SigningKey, settings: Settings) -> None:
        self._key = key
        self._public = key.private_key.public_key()
        self._issuer = settings.jwt_issuer
        self._ttl = settings.access_token_ttl_seconds
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._key.public_jwk]}

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def issue(self, *, subject: str, session_id: str, role: str) -> str:
        now = int(utcnow().timestamp())
        claims = {
            "iss": self._issuer,
            "sub": subject,
            "sid": session_id,
            "role": role,
            "iat": now,
            "exp": now + self._ttl,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(
            claims, self._key.private_key, algorithm=ALGORITHM, headers={"kid": self._key.kid}
        )

    def verify(self, token: str) -> dict[str, Any] | None:
        """Claims of a valid token, else None.

        Signature checks are remembered per token until the token expires: a request
        is checked by the rate limiter and by authentication, and clients reuse one
        access token for many requests.
        """
        cached = self._verified.get(token)
        if cached is not None:
            if cached["exp"] > utcnow().timestamp():
                self._verified.move_to_end(token)
                return cached
            del self._verified[token]
        claims = self._verify_signature(token)
        if claims is not None:
            self._verified[token] = claims
            if len(self._verified) > _VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _verify_signature(self, token: str) -> dict[str, Any] | None:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self._key.kid:
                return None
            claims: dict[str, Any] = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "sid"]},
            )
        except jwt.PyJWTError:
            return None
        return claims
