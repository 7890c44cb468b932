"""How the platform's ASGI apps are served (docs/security.md, "Client addresses and proxies").

uvicorn trusts ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from 127.0.0.1 (or whatever
``FORWARDED_ALLOW_IPS`` says) by default and rewrites the client before the app sees it: behind
a proxy on the same machine, every client would be whoever the header names. Every server here
is started with ``proxy_headers=False``; the apps' own middleware
(projections.client_address.ClientAddress) believes the headers only from the proxies the
operator names (FIREGOV_TRUSTED_PROXIES, FIREGOV_PUBLIC_TRUSTED_PROXIES).
"""

from __future__ import annotations

from typing import Any

import uvicorn


def server_config(app: Any, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of one of our apps; ``options`` as uvicorn.Config takes them
    (host, port, log_config, ...), but never a trust of proxy headers of its own."""
    options.setdefault("log_config", None)
    return uvicorn.Config(app, **options, proxy_headers=False)
