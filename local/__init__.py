"""Local mode: the embedded AWS stand-in and the one command that runs everything.

Nothing in here is imported by the site; it only starts processes around it.
"""
