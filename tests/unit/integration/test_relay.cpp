// The relays' guest side: settings, where the Windows programs are looked for, the socket relay
// (with /bin/cat as the relay process: it answers each connection with what it was sent) and the
// agent probe against answers in the agent protocol's format.
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/integration/config.hpp>
#include <azl/integration/relay.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <thread>

using namespace azl::integration;
namespace fs = std::filesystem;

namespace
{

azl::UniqueFd connect_to(const fs::path& path)
{
    azl::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
    return fd;
}

std::string read_all(int fd)
{
    std::string out;
    std::array<char, 256> buf{};
    ssize_t n = 0;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0)
    {
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
}

void touch(const fs::path& p)
{
    fs::create_directories(p.parent_path());
    azl::write_file_atomic(p, "MZ", 0755);
}

} // namespace

TEST_CASE("the relays' settings: defaults, each section, bad values named", "[relay]")
{
    const azl::TempDir dir("azl-test");
    CHECK(load_config({}).relay.ssh_agent);
    CHECK(load_config({}).relay.gcm);
    CHECK(load_config({}).relay.ssh_pipe == "openssh-ssh-agent");
    azl::write_file_atomic(
        dir.path() / "a.conf",
        "[relay]\nlauncher = /mnt/d/Tools/azurelinux.exe\n[ssh-agent]\nenabled = false\npipe = "
        "pageant\n[gcm]\nenabled = no\npath = /mnt/c/gcm/git-credential-manager.exe\n");
    const auto c = load_config({dir.path() / "a.conf"});
    CHECK(c.relay.launcher == fs::path("/mnt/d/Tools/azurelinux.exe"));
    CHECK_FALSE(c.relay.ssh_agent);
    CHECK(c.relay.ssh_pipe == "pageant");
    CHECK_FALSE(c.relay.gcm);
    CHECK(c.relay.gcm_path == fs::path("/mnt/c/gcm/git-credential-manager.exe"));
    CHECK(c.enabled); // the Azure bridge is its own switch

    azl::write_file_atomic(dir.path() / "b.conf", "[ssh-agent]\nenabled = sometimes\n");
    CHECK_THROWS_WITH(
        load_config({dir.path() / "b.conf"}),
        Catch::Contains("b.conf") && Catch::Contains("[ssh-agent] enabled"));
    azl::write_file_atomic(dir.path() / "c.conf", "[ssh-agent]\npipe = pipes/x\n");
    CHECK_THROWS_WITH(load_config({dir.path() / "c.conf"}), Catch::Contains("not a pipe name"));
    azl::write_file_atomic(dir.path() / "d.conf", "[gcm]\npath = C:/gcm.exe\n");
    CHECK_THROWS_WITH(load_config({dir.path() / "d.conf"}), Catch::Contains("absolute guest path"));
}

TEST_CASE("the launcher and GCM are found where their installers put them", "[relay]")
{
    const azl::TempDir drive("azl-test");
    const fs::path& root = drive.path();
    RelayConfig config;
    CHECK_FALSE(find_host_launcher(config, root));
    CHECK_FALSE(find_gcm(config, root));
    fs::create_directories(root / "c/Users/Public");
    touch(root / "c/Users/Public/AppData/Local/Microsoft/WindowsApps/azurelinux.exe");
    CHECK_FALSE(find_host_launcher(config, root)); // not a user's profile

    touch(root / "c/Users/jane/AppData/Local/Microsoft/WindowsApps/azurelinux.exe");
    CHECK(
        find_host_launcher(config, root)
        == root / "c/Users/jane/AppData/Local/Microsoft/WindowsApps/azurelinux.exe");
    touch(root / "c/Program Files/AzureLinux/azurelinux.exe");
    CHECK(find_host_launcher(config, root) == root / "c/Program Files/AzureLinux/azurelinux.exe");
    config.launcher = "/nowhere/azurelinux.exe";
    CHECK_FALSE(find_host_launcher(config, root)); // the configured one only

    // Newest Git for Windows first; an older layout left behind loses.
    touch(
        root
        / "c/Users/jane/AppData/Local/Programs/Git Credential Manager/git-credential-manager.exe");
    CHECK(
        find_gcm(config, root)
        == root
               / "c/Users/jane/AppData/Local/Programs/Git Credential "
                 "Manager/git-credential-manager.exe");
    touch(root / "c/Program Files/Git/mingw64/libexec/git-core/git-credential-manager-core.exe");
    CHECK(
        find_gcm(config, root)
        == root / "c/Program Files/Git/mingw64/libexec/git-core/git-credential-manager-core.exe");
    touch(root / "c/Program Files/Git/mingw64/bin/git-credential-manager.exe");
    CHECK(
        find_gcm(config, root)
        == root / "c/Program Files/Git/mingw64/bin/git-credential-manager.exe");
    config.gcm_path = root / "custom.exe";
    CHECK_FALSE(find_gcm(config, root));
}

TEST_CASE(
    "each connection is handed to a relay process of its own, and other uids are refused",
    "[relay]")
{
    const azl::TempDir dir("azl-test");
    const fs::path socket = dir.path() / "relay.sock";
    azl::write_file_atomic(socket, "stale"); // whatever was there is replaced
    SocketRelayOptions options;
    options.socket = socket;
    options.command = {"/bin/cat"};
    options.allowed_uid = ::geteuid();
    auto relay = std::make_unique<SocketRelay>(options);
    struct stat st = {};
    REQUIRE(::stat(socket.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777U) == 0600);
    std::thread server([&relay] { relay->run(); });
    for (const std::string message : {"first", "second"})
    {
        const auto fd = connect_to(socket);
        REQUIRE(
            ::write(fd.get(), message.data(), message.size())
            == static_cast<ssize_t>(message.size()));
        ::shutdown(fd.get(), SHUT_WR); // cat ends at our end of input: the relay process is gone
        CHECK(read_all(fd.get()) == message);
    }
    relay->stop();
    server.join();
    CHECK(relay->stats().relayed == 2);
    relay.reset();
    CHECK_FALSE(fs::exists(socket));

    options.allowed_uid = ::geteuid() + 1;
    SocketRelay strict(options);
    std::thread strict_server([&strict] { strict.run(); });
    const auto fd = connect_to(socket);
    CHECK(read_all(fd.get()).empty()); // closed without a relay
    strict.stop();
    strict_server.join();
    CHECK(strict.stats().refused == 1);
    CHECK(strict.stats().relayed == 0);
}

TEST_CASE("the agent probe reads the agent protocol's answers", "[relay]")
{
    const auto answer = [](std::string reply)
    {
        std::array<int, 2> sv{};
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv.data()) == 0);
        const azl::UniqueFd ours(sv[0]);
        const azl::UniqueFd agent(sv[1]);
        std::thread t(
            [&agent, &reply]
            {
                std::array<char, 5> request{};
                REQUIRE(::read(agent.get(), request.data(), request.size()) == 5);
                CHECK(std::string(request.data(), 5) == std::string("\0\0\0\1\x0b", 5));
                if (!reply.empty())
                {
                    REQUIRE(
                        ::write(agent.get(), reply.data(), reply.size())
                        == static_cast<ssize_t>(reply.size()));
                }
                ::shutdown(agent.get(), SHUT_WR);
            });
        AgentProbe probe = query_agent_keys(ours.get(), std::chrono::seconds(5));
        t.join();
        return probe;
    };
    // IDENTITIES_ANSWER with 3 keys (the key blobs themselves are not read).
    const auto three = answer(std::string("\0\0\0\x09\x0c\0\0\0\x03zzzz", 13));
    REQUIRE(three.keys);
    CHECK(*three.keys == 3);
    const auto failure = answer(std::string("\0\0\0\x01\x05", 5));
    CHECK_FALSE(failure.keys);
    CHECK_THAT(failure.error, Catch::Contains("message type 5"));
    const auto gone = answer("");
    CHECK_FALSE(gone.keys);
    CHECK_THAT(gone.error, Catch::Contains("is the Windows agent running"));
}
