"""Conversations and the agent workflow (status, assignment, unread, reply window)."""
