// Under Node (tests): nothing to adjust.
