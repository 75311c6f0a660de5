"""The fault-injection suite of issue #14: `coo bench chaos`'s harness with small counts."""
