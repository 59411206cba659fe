"""The platform's transports: the gRPC server, the HTTP app, and the shared error mapping."""
