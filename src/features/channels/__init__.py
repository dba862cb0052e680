"""Channels: path attribution, media-mix model and budget reallocation (notebook 07)."""
