"""The web plumbing: the application factory (`web.app`), error pages, navigation, security
headers, request logging, and what every form and HTML view shares (`web.forms`, `web.responses`)."""
