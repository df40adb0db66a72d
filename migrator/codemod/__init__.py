"""``migrator codemod``: rewrite a repository's chat.completions call sites to the Responses API."""
