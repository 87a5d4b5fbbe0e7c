"""Selection by name: a noun phrase ("bottle", "red cup") finds every matching instance (SAM 3)."""
