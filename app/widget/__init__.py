"""The storefront chat widget: its static files (``static/widget.js``, the demo page), the
CORS policy for widget keys and the demo key. Routes live in ``app.api.routes.widget``."""
