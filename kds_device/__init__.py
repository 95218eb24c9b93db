"""kds-device: a kitchen display for Deliverect's KDS integration."""

__version__ = "0.1.0"
