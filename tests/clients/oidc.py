"""A real OpenID provider for the tests: ``oidc-provider`` (pinned in package.json) run by
``oidc_provider.mjs`` on a loopback port, on the pinned Node.

The tests choose its clients, their groups and token lifetimes, and its signing keys: they
rotate the keys by restarting it on the same port with new ones, and take it down to see
what the host does without it. Tokens come from its token endpoint, as any client gets them.
"""

from __future__ import annotations

import html
import json
import queue
import re
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx2
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.clients.node import BIN, CLIENTS_DIR, NodeClients

SCRIPT = CLIENTS_DIR / "oidc_provider.mjs"
START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def new(cls, kid: str) -> SigningKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def private_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key))
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}


@dataclass
class Client:
    """A client registered at the provider, with what the tests give its tokens."""

    client_id: str
    scope: str
    groups: list[str] | None = None
    access_token_ttl_s: int | None = None
    client_secret: str = "client-secret-0123456789abcdef"
    redirect_uris: list[str] = field(default_factory=list)
    auth_method: str = "client_secret_post"
    """How it authenticates at the token and introspection endpoints."""

    def metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_types": ["client_credentials", *(["authorization_code"] if self.redirect_uris else [])],
            "response_types": ["code"] if self.redirect_uris else [],
            "redirect_uris": self.redirect_uris,
            "token_endpoint_auth_method": self.auth_method,
            "scope": self.scope,
        }
        if self.groups is not None:
            metadata["groups"] = self.groups
        if self.access_token_ttl_s is not None:
            metadata["access_token_ttl_s"] = self.access_token_ttl_s
        return metadata


class OpenIDProvider:
    """``oidc-provider`` on ``127.0.0.1:port``; ``issuer`` is its URL."""

    def __init__(
        self,
        node: NodeClients,
        scratch: Path,
        clients: list[Client],
        scopes: list[str],
        keys: list[SigningKey] | None = None,
        port: int | None = None,
        opaque_resources: list[str] | None = None,
    ) -> None:
        self._node = node
        self._settings_file = scratch / f"oidc-{id(self)}.json"
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.clients = {client.client_id: client for client in clients}
        self.scopes = scopes
        self.keys = keys or [SigningKey.new("key-1")]
        self.opaque_resources = opaque_resources or []
        self._process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    def start(self) -> None:
        settings = {
            "issuer": self.issuer,
            "port": self.port,
            "keys": [key.private_jwk() for key in self.keys],
            "clients": [client.metadata() for client in self.clients.values()],
            "scopes": self.scopes,
            "opaque_resources": self.opaque_resources,
        }
        self._settings_file.write_text(json.dumps(settings), encoding="utf-8")
        process = subprocess.Popen(
            [str(BIN / "node"), str(SCRIPT), str(self._settings_file)],
            cwd=CLIENTS_DIR,
            env=self._node.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                self.output.append(line.rstrip())
                lines.put(line.strip())
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        self._process = process
        while True:
            try:
                line = lines.get(timeout=START_TIMEOUT_S)
            except queue.Empty:
                self.stop()
                raise RuntimeError("oidc-provider did not start:\n" + "\n".join(self.output)) from None
            if line == "ready":
                return
            if line is None:
                raise RuntimeError("oidc-provider exited:\n" + "\n".join(self.output))

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._process = None

    def rotate_keys(self) -> SigningKey:
        """Restart on the same port signing with a new key only (the old one is gone)."""
        new = SigningKey.new(f"key-{len(self.keys) + 1}-{id(self) % 1000}")
        self.stop()
        self.keys = [new]
        self.start()
        return new

    def token(self, client_id: str, *, scope: str, resource: str | None) -> str:
        """An access token from the token endpoint (client credentials): a JWT for
        ``resource`` (its ``aud``), an opaque one without."""
        client = self.clients[client_id]
        form = {"grant_type": "client_credentials", "scope": scope}
        credentials = {"client_id": client.client_id, "client_secret": client.client_secret}
        basic = client.auth_method == "client_secret_basic"
        if not basic:
            form |= credentials
        if resource is not None:
            form["resource"] = resource
        auth = (client.client_id, client.client_secret) if basic else None
        response = httpx2.post(f"{self.issuer}/token", data=form, auth=auth, timeout=10)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


async def sign_in(authorization_url: str, login: str, redirect_uri: str) -> str:
    """Go through the provider's own sign-in pages (oidc-provider's devInteractions: a login
    form, then a consent form) as a browser would, and return the URL it finally redirects
    to: ``redirect_uri`` with the authorization code."""
    async with httpx2.AsyncClient(follow_redirects=False, timeout=10) as browser:
        response = await browser.get(authorization_url)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(redirect_uri):
                    return location
                response = await browser.get(location)
                continue
            action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            prompt = re.search(r'name="prompt" value="([a-z]+)"', response.text)
            page = f"{response.url}:\n{response.text[:2000]}"
            assert action, f"no sign-in form at {page}"
            assert prompt, f"no prompt in the sign-in form at {page}"
            form = {"prompt": prompt.group(1)}
            if form["prompt"] == "login":
                form |= {"login": login, "password": "any password will do"}
            response = await browser.post(
                urljoin(str(response.url), html.unescape(action.group(1))), data=form
            )
    raise AssertionError(f"the sign-in never redirected to {redirect_uri}")
