"""``python -m linktor.adapters.fake``: serve the fake adapter through the plugin handshake."""

from linktor.adapterkit import serve
from linktor.adapters.fake.adapter import FakeAdapter

if __name__ == "__main__":
    serve(FakeAdapter())
