"""Container health check: healthy once the server sends a MySQL protocol-10
greeting on its port (TIEMBED_HEALTH_HOST/PORT, default 127.0.0.1:4000).
Standard library only, so the runtime image needs no MySQL client."""

import os
import socket
import sys

host = os.environ.get("TIEMBED_HEALTH_HOST", "127.0.0.1")
port = int(os.environ.get("TIEMBED_HEALTH_PORT", "4000"))
try:
    with socket.create_connection((host, port), timeout=2) as s:
        s.settimeout(2)
        head = b""
        while len(head) < 5:
            chunk = s.recv(5 - len(head))
            if not chunk:
                break
            head += chunk
except OSError as e:
    print(f"unhealthy: {e}")
    sys.exit(1)
# 3-byte length, sequence id, then the protocol version (10).
if len(head) == 5 and head[4] == 10:
    sys.exit(0)
print(f"unhealthy: unexpected greeting {head!r}")
sys.exit(1)
