"""Media: attachments (files uploaded to send, media received from contacts), their
storage and download URLs."""
