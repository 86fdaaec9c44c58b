"""Personal data: what leaves the call centre, and in what form."""
