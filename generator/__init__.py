"""KSPay Pages: static order pages for KSNET's KSPay smartphone payment window."""

__version__ = "0.1.0"
