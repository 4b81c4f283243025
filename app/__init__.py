"""Hélio — YSH's PV sizing-and-quoting assistant."""
