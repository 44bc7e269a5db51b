"""The local dev server: live rebuilds, the sandbox KSPay window, an example result page."""
