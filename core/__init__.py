"""The shared foundations every package may use, and nothing else: settings (`config`), the
database (`db`), domain errors, local time, money, the audit log and the bounds of input."""
