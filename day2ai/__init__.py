"""day2ai."""
