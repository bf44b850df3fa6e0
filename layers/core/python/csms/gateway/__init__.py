"""The WebSocket front door's functions: authorizer, $connect, $default, $disconnect."""
