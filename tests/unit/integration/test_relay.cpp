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
#include <test_support.hpp>
#include <thread>
#include <utility>

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

void make_exe(const fs::path& p)
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
    make_exe(root / "c/Users/Public/AppData/Local/Microsoft/WindowsApps/azurelinux.exe");
    CHECK_FALSE(find_host_launcher(config, root)); // not a user's profile

    make_exe(root / "c/Users/jane/AppData/Local/Microsoft/WindowsApps/azurelinux.exe");
    CHECK(
        find_host_launcher(config, root)
        == root / "c/Users/jane/AppData/Local/Microsoft/WindowsApps/azurelinux.exe");
    make_exe(root / "c/Program Files/AzureLinux/azurelinux.exe");
    CHECK(find_host_launcher(config, root) == root / "c/Program Files/AzureLinux/azurelinux.exe");
    config.launcher = "/nowhere/azurelinux.exe";
    CHECK_FALSE(find_host_launcher(config, root)); // the configured one only

    // Newest Git for Windows first; an older layout left behind loses.
    make_exe(
        root
        / "c/Users/jane/AppData/Local/Programs/Git Credential Manager/git-credential-manager.exe");
    CHECK(
        find_gcm(config, root)
        == root
               / "c/Users/jane/AppData/Local/Programs/Git Credential "
                 "Manager/git-credential-manager.exe");
    make_exe(root / "c/Program Files/Git/mingw64/libexec/git-core/git-credential-manager-core.exe");
    CHECK(
        find_gcm(config, root)
        == root / "c/Program Files/Git/mingw64/libexec/git-core/git-credential-manager-core.exe");
    make_exe(root / "c/Program Files/Git/mingw64/bin/git-credential-manager.exe");
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
        CHECK(azl::test::read_to_eof(fd.get()) == message);
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
    CHECK(azl::test::read_to_eof(fd.get()).empty()); // closed without a relay
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

TEST_CASE(
    "Gpg4win's socket file is found per Windows user, and named as Windows names it", "[relay]")
{
    const azl::TempDir drive("azl-test");
    const fs::path& root = drive.path();
    RelayConfig config;
    CHECK_FALSE(find_gpg_socket_file(config, root));
    make_exe(root / "c/Users/jane/AppData/Roaming/gnupg/S.gpg-agent.extra"); // GnuPG 2.2
    CHECK(
        find_gpg_socket_file(config, root)
        == root / "c/Users/jane/AppData/Roaming/gnupg/S.gpg-agent.extra");
    make_exe(root / "c/Users/jane/AppData/Local/gnupg/S.gpg-agent.extra"); // 2.3 and later
    CHECK(
        find_gpg_socket_file(config, root)
        == root / "c/Users/jane/AppData/Local/gnupg/S.gpg-agent.extra");

    CHECK(
        windows_path_of(root / "c/Users/jane/AppData/Local/gnupg/S.gpg-agent.extra", root)
        == std::string(R"(C:\Users\jane\AppData\Local\gnupg\S.gpg-agent.extra)"));
    CHECK(windows_path_of(root / "d", root) == std::string(R"(D:\)"));
    CHECK_FALSE(windows_path_of("/home/jane/S.gpg-agent", root));
    CHECK_FALSE(windows_path_of(root / "wsl/x", root));
    CHECK_FALSE(windows_path_of(root / "c/../../etc", root));
}

TEST_CASE("the gpg-agent probe reads the Assuan greeting and GETINFO version", "[relay]")
{
    const auto ask = [](const std::string& answers)
    {
        std::array<int, 2> sv{};
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv.data()) == 0);
        const azl::UniqueFd ours(sv[0]);
        const azl::UniqueFd agent(sv[1]);
        REQUIRE(
            ::write(agent.get(), answers.data(), answers.size())
            == static_cast<ssize_t>(answers.size()));
        ::shutdown(agent.get(), SHUT_WR);
        auto answer = query_assuan_version(ours.get(), std::chrono::seconds(5));
        ::shutdown(ours.get(), SHUT_WR); // what was asked is all there is to read
        std::array<char, 64> request{};
        const ssize_t n = ::read(agent.get(), request.data(), request.size());
        return std::make_pair(answer, std::string(request.data(), n > 0 ? n : 0));
    };
    auto [ok, request] = ask("OK Pleased to meet you\nD 2.4.5\nOK\n");
    CHECK(ok.version == std::string("2.4.5"));
    CHECK(ok.error.empty());
    CHECK(request == "GETINFO version\n");
    auto [refused, none] = ask("ERR 67109139 Unknown IPC command\n");
    CHECK_FALSE(refused.version);
    CHECK_THAT(refused.error, Catch::Contains("greeted with: ERR 67109139"));
    CHECK(none.empty()); // nothing asked of a server that did not greet
    auto [err, asked] = ask("OK hi\nERR 67109115 Forbidden\n");
    CHECK_FALSE(err.version);
    CHECK_THAT(err.error, Catch::Contains("answered: ERR 67109115 Forbidden"));
    auto [gone, unused] = ask("");
    CHECK_FALSE(gone.version);
    CHECK_THAT(gone.error, Catch::Contains("is GnuPG's agent running on Windows"));
}
