"""msgfy: the Linktor command line, built on the Python SDK (``pip install linktor-sdk[cli]``)."""
