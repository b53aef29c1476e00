"""Sandboxed execution of untrusted programs: sandbox.py (one program), pool.py (many), launcher.py and runner.py (run inside the sandbox)."""
