"""Attachments and their rules; imports no framework."""
