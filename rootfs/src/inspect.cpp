// Owned by the image engine; filled in by its module.
