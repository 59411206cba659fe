"""``python -m linktor.adapters.whatsapp``: the adapter process the plugin host launches."""

from linktor.adapterkit import serve
from linktor.adapters.whatsapp.adapter import WhatsAppAdapter


def main() -> None:
    serve(WhatsAppAdapter())


if __name__ == "__main__":
    main()
