"""The Web Chat channel adapter for Linktor: the channel of the embeddable widget.

Run it as ``python -m linktor.adapters.webchat`` (the plugin host does). Web Chat has no
third-party provider: visitors talk to the core's visitor WebSocket endpoint
(``linktor.server.webchat``), and this adapter is the channel's contract with the core: it
declares what a widget can show, validates a channel's widget settings, and accepts
outbound messages (the core then pushes them to the visitor's socket). The modules:
``adapter`` (the gRPC service), ``config`` (widget settings), ``capabilities``, ``content``
(outbound checks). Documentation: docs/channels/webchat.md.
"""

from linktor.adapters.webchat.capabilities import ADAPTER_NAME, ADAPTER_VERSION

__all__ = ["ADAPTER_NAME", "ADAPTER_VERSION"]
