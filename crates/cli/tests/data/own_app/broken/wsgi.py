"""A user's app that fails as it loads, as an app with a missing setting does."""

raise RuntimeError("SHOP_DATABASE_URL is not set")
