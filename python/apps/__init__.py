"""The test cases past Pong (suites/apps.toml): one module per app, so a framework
that is not installed fails only its own app.

Every app sets Content-Length where it knows it and no hop-by-hop header (PEP 3333),
so every server keeps the connection alive on its own.
"""
