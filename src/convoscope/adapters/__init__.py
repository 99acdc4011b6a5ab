"""Ways in from files and platforms: each turns its source into SPEC events (plain dicts)
and hands them to `convoscope.events.validate_batch`; none of them writes to the store."""
