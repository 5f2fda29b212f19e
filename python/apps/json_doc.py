"""`json`: builds and serializes a ~2 KiB JSON document per request, as an API does.

The document is built afresh each time (not cached), from the same data, so every
server answers the same bytes.
"""

import json

ITEMS = 28


def app(environ, start_response):
    doc = {
        "page": 1,
        "total": ITEMS,
        "items": [
            {
                "id": i,
                "name": f"item-{i:04d}",
                "price": round(i * 1.25, 2),
                "tags": ["a", "b", "c"][: 1 + i % 3],
                "active": i % 2 == 0,
            }
            for i in range(ITEMS)
        ],
    }
    body = json.dumps(doc, separators=(",", ":")).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
