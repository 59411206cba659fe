"""Hard limits of the visitor endpoint, independent of any channel's settings."""

from __future__ import annotations

#: Largest WebSocket frame accepted (uvicorn refuses bigger ones with close code 1009 before
#: buffering them). A 4,096-character message escaped as JSON stays well below it.
WS_MAX_FRAME_BYTES = 32 * 1024
#: Largest JSON body of the session endpoint.
MAX_SESSION_BODY_BYTES = 4 * 1024
#: Sessions one client address may create per minute (page views without a stored session).
SESSIONS_PER_ADDRESS_PER_MINUTE = 30
#: Frames of any kind one visitor may send per second (typing, receipts ...), burst.
FRAMES_PER_SECOND = 10.0
FRAMES_BURST = 40
#: Attachments one visitor may upload per minute.
UPLOADS_PER_MINUTE = 10
#: Open sockets per visitor (tabs); the oldest beyond it is closed.
SOCKETS_PER_VISITOR = 5
#: Outbound messages remembered per socket, so the visitor can acknowledge them.
REMEMBERED_OUTBOUND = 1000
