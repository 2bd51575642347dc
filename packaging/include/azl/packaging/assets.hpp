#pragma once
// The packaging assets built into the program (packaging/assets/, see ORIGIN.md there): the icon
// rendered at every size we use, and the text templates.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace azl::packaging
{

// The text templates.
enum class TextAsset
{
    terminal_profile, // Windows Terminal profile template (JSON with a "profiles" array)
    wsl_conf,         // the default /etc/wsl.conf, without [boot]
    answers_template, // a starting point for unattended first-run answers
    bridge_conf,      // /etc/azurelinux/bridge.conf defaults (the bridge's own when it ships one)
};

// The template's content.
std::string_view text_asset(TextAsset asset);

// The bridge's login-shell hook (integration/guest/profile.d/), when the bridge's tree ships it.
std::optional<std::string_view> bridge_hook();

// The bridge's systemd user unit, when the bridge's tree ships one (integration/guest/systemd/).
std::optional<std::string_view> bridge_user_unit();

// The system git configuration naming the bridge as git's credential helper (/etc/gitconfig);
// nullopt when the bridge's tree has none.
std::optional<std::string_view> bridge_gitconfig();

// The frame sizes of the .ico in images: 16, 24, 32, 48, 64, 128, 256.
std::span<const unsigned> icon_sizes();

// The icon rendered as a square PNG of `size` pixels; throws std::out_of_range for a size that
// was not rendered (icon_sizes() and the Store logo sizes 44, 50, 71, 150, 310 are).
std::string_view icon_png(unsigned size);

// The multi-resolution .ico (every icon_sizes() frame), packed by write_ico().
std::string icon_ico();

} // namespace azl::packaging
