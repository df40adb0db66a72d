"""The JavaScript/TypeScript codemod: tree-sitter trees, edits spliced into the original bytes."""
