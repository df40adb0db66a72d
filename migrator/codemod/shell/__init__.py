"""cURL commands in shell scripts, Makefile recipes and docs' console blocks (issue #11, item 2)."""
