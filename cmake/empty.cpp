// Placeholder translation unit for a core area with no sources yet.
