#pragma once
// Golden images: clearing what must be unique to each machine, so that one prepared distribution
// can be exported and imported on many; first-run setup gives each copy a new identity.

#include <azl/oobe/runner.hpp>

namespace azl::oobe
{

// Clears, under `/`: the machine id (/etc/machine-id emptied, /var/lib/dbus/machine-id removed),
// the SSH host keys, the Azure bridge's runtime secrets, the first-run state (keeping only that the
// first user exists, so it is not created again) and status, the logs under /var/log, and root's
// and every home's shell history. Prints one line per thing cleared. With DryRun::yes only prints.
void seal_system(DryRun dry_run);

// The identity step's work: a new /etc/machine-id when it is empty or missing, and new SSH host
// keys (ssh-keygen -A) when an SSH server is installed and has none. Returns what it did, empty
// when nothing was needed.
std::string renew_identity();

// Whether renew_identity has anything to do.
bool identity_missing();

} // namespace azl::oobe
