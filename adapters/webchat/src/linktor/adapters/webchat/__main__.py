"""``python -m linktor.adapters.webchat``: serve the Web Chat adapter through the handshake."""

from linktor.adapterkit import serve
from linktor.adapters.webchat.adapter import WebchatAdapter

if __name__ == "__main__":
    serve(WebchatAdapter())
