"""The payments service: KSPay's result post completed with recv_post, checked against the
merchant's own file, and kept (see `flow` for the protocol, `store` for the states)."""
