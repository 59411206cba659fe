"""The web chat context: the core's side of the Web Chat channel.

Visitors on a site that embeds the widget (``/widget.js``) are not users: they get their own
session tokens (``domain/tokens.py``), talk over a WebSocket (``api/socket.py``; protocol in
docs/channels/webchat.md), and what they send becomes inbound events persisted through the
same durable path as provider webhooks. What agents send reaches them from the event
stream, filtered to the visitor's own conversation (``app/visitor_view.py``). The channel's
adapter (adapters/webchat) declares the capabilities and validates the widget settings.
"""
