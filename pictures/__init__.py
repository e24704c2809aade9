"""The picture rules the site and the Lambda worker share: pure Pillow, no Django, no AWS.

- :mod:`pictures.check`: what an upload may be (size, format, pixels) and
  :func:`~pictures.check.check_picture`, which the site's form runs before anything
  is stored and the avatar worker runs again on what it reads back (defence in depth);
- :mod:`pictures.avatar`: where avatars lie in the media bucket and
  :func:`~pictures.avatar.render_avatar`, which makes the sizes the site shows from
  pixel data only (no EXIF, GPS, XMP or colour profile survives).

Its own small package because both sides import it: the site may not import the
Lambda code, and ``datalayer`` is the DynamoDB plumbing (import-linter keeps all three
apart). docs/jobs.md, "Avatar", has the limits and the reasons.
"""
