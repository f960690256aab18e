"""The generic channel: in-app notices and the e-mail outbox, used by every package.

Dependency direction (issue 17 point 5): this package sits LOW, below the domains that use it:
core <- accounts <- notifications <- inventory <- bookings <- reports ... It needs only ``core``
and ``accounts`` (a notice is for a ``User``) and imports nothing from inventory, bookings or
reports. Each domain decides what to say and to whom, in its own module, and calls
``notifications.service.notify`` (optionally with an ``attachment=`` for the e-mail) explicitly
from its commands, as Indico's ``notify_creation(reservation)`` does: ``bookings/notices.py``
for bookings, ``inventory/training_requests.py``, ``training.py``, ``inspections.py`` and
``maintenance.py`` for training, inspections and maintenance, ``reports/delivery.py`` for scheduled reports. Nothing is told through session
hooks or signals, so nothing depends on a module being imported for its side effect.

* ``models``: ``Notification`` (the in-app notice) and ``OutboxMessage`` (an e-mail to send).
* ``service``: ``notify`` (the only writer of notices), the event catalogue (``EVENTS``), the
  in-app list and e-mail preferences, and the outbox (``enqueue``, ``send_due``).
* ``mail``: the transports the outbox sends through. ``views``/``forms``: the pages.
"""
