"""kds-gateway: the service Deliverect calls and the kitchen screens read from.

Nothing in this package imports Kivy, gpiozero or ``kds_device.ui``: the gateway installs on a
server with ``pip install kds-device[gateway]``.
"""
