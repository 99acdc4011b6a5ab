"""convoscope: conversation analytics for customer messaging."""
