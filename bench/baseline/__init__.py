"""The baseline of ``make bench``: a plain Django 5.2 site built the usual way.

ORM users (``django.contrib.auth``), database sessions (``django.contrib.sessions``,
extended as Django's documentation shows with who/where/when columns for the
sessions page) on SQLite, WhiteNoise for static files, Django's standard
middleware. It serves the pages ``make bench`` measures on Nebula, with the same
forms and nearly the same templates: the anonymous home page, the login form,
the profile page (display name and email-change forms) and the sessions page.
Nothing else of Nebula's is imported.
"""
