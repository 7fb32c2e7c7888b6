"""REST semantics: reads, writes, deletes, watches, subresources and Table output."""
