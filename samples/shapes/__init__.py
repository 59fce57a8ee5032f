"""The shapes sample: a canvas service over every kind of message element (shapes.idl)."""
