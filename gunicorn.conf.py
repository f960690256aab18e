"""gunicorn's settings for Kitshare, read by gunicorn when it starts in this folder (its default
./gunicorn.conf.py); command-line options still win.

limit_request_line: gunicorn answers a request line (method, URL and protocol) longer than this
with its own bare HTML 414 page. Its default, 4094 bytes, is just above the URLs Kitshare answers
itself (config.MAX_URL_LENGTH, 4000 characters: longer ones get Kitshare's 414, a problem document
on /api/); 8190, gunicorn's largest, leaves room for the app to answer URLs up to about 8 KB too.
"""

limit_request_line = 8190
