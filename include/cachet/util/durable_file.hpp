// Files that survive a crash the moment a call returns: write to a temporary file, fsync it, rename it over the
// target, fsync the directory. Used for everything the signer promises to keep (managed keystores, the token).
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace cachet {

/// Atomically replaces (or creates) `path` with `content`, with permission bits `mode`; durable on success.
std::expected<void, std::string> write_file_durably(const std::filesystem::path& path, std::string_view content,
                                                    unsigned mode = 0600);

/// Removes `path` (absent is fine) and fsyncs its directory.
std::expected<void, std::string> remove_file_durably(const std::filesystem::path& path);

/// Creates `dir` (and parents) with `mode` if missing, and fsyncs the parent.
std::expected<void, std::string> ensure_directory(const std::filesystem::path& dir, unsigned mode = 0700);

}  // namespace cachet
