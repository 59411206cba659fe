"""Database access shared by the contexts: engine, table metadata, unit of work, migrations."""
