"""The WhatsApp channel adapter (Meta Cloud API) for Linktor.

Run it as ``python -m linktor.adapters.whatsapp`` (the plugin host does). The modules:
``adapter`` (the gRPC service), ``config``, ``outbound*`` (canonical -> Meta JSON),
``inbound*`` and ``webhook`` (Meta webhooks -> canonical events), ``errors`` (the error
table), ``media``, ``templates``, ``capabilities``, ``graph_client``, ``limits``.
Documentation: docs/channels/whatsapp.md.
"""

from linktor.adapters.whatsapp.capabilities import ADAPTER_NAME, ADAPTER_VERSION

__all__ = ["ADAPTER_NAME", "ADAPTER_VERSION"]
