"""Code generators that read the IR."""
