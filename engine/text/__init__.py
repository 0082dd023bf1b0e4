"""Error text to facts: literal prefilters, the multi-pattern finder, signatures, providers."""
