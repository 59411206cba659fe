"""AttachmentService (gRPC) and the HTTP download and upload routes."""
