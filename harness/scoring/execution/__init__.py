"""Sandboxed execution of untrusted programs: sandbox.py (one program), pool.py (many), and launcher.py
and runner.py (which run inside the sandbox)."""
