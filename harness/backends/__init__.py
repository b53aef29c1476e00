"""Backends turn Requests into Responses. They know nothing of tasks, arms or groups."""
