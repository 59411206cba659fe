"""The fake channel adapter: Linktor's ChannelAdapter contract over an in-memory provider.

For tests and benchmarks: configurable latency, failures, 429s, timeouts and crashes
(knobs.py, magic texts in adapter.py), a record of every call (recorder.py) and a simple
signed webhook format (webhook.py). See adapters/fake/README.md.
"""
