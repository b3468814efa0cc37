"""Shared pieces of Greenroom's HTTP APIs (error envelope, permissions)."""
