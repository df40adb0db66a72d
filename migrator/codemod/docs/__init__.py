"""Documents: the code blocks of Markdown, MDX, reStructuredText and notebook markdown cells."""
