# Read by the `flask` command (python-dotenv) for commands run in this checkout. Real environment
# variables win, so a production host sets KITSHARE_ENV=production and SECRET_KEY itself.
# gunicorn does not read this file: a deployment defaults to production mode.
KITSHARE_ENV=development
