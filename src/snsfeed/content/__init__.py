"""Posts: creation, validation, hashtags, mentions, visibility, edits and soft delete."""
