"""The shared kernel: small framework-free building blocks every bounded context uses."""
