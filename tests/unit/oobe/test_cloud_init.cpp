// cloud-init user-data translated into a layer of answers. The sample documents in cloud-init/
// are judged valid cloud-config by Debian's cloud-init itself (the cloud_init_schema tests).
#include <azl/common/fs.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/cloud_init.hpp>
#include <azl/oobe/layers.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <test_support.hpp>

using namespace azl::oobe;
using azl::test::thrown_message;
using nlohmann::json;

namespace
{

const std::filesystem::path kSamples = AZL_CLOUD_INIT_SAMPLES;

std::string sample(std::string_view name)
{
    return azl::read_file(kSamples / name);
}

CloudConfigTarget debian_target()
{
    CloudConfigTarget t;
    t.family = Family::debian;
    t.release_codename = "bookworm";
    t.group_exists = [](std::string_view g) { return g != "netdev"; };
    return t;
}

CloudConfigTarget rpm_target()
{
    CloudConfigTarget t;
    t.family = Family::rpm;
    return t;
}

bool noted(const Layer& layer, std::string_view start)
{
    return std::any_of(
        layer.ignored.begin(),
        layer.ignored.end(),
        [start](const std::string& note) { return note.starts_with(start); });
}

OsRelease os(std::string id, std::string version_id, std::string codename)
{
    OsRelease o;
    o.id = std::move(id);
    o.version_id = std::move(version_id);
    o.version_codename = std::move(codename);
    return o;
}

} // namespace

TEST_CASE("cloud-init: the candidate files are the WSL datasource's, in its order", "[oobe]")
{
    CHECK(
        cloud_init_candidates("Azure-Dev", os("azurelinux", "3.0", ""))
        == std::vector<std::string>{
            "Azure-Dev.user-data",
            "azurelinux-3.0.user-data",
            "azurelinux-all.user-data",
            "default.user-data"});
    // No VERSION_ID (Debian testing): VERSION_CODENAME; no instance name: no instance file.
    CHECK(
        cloud_init_candidates("", os("debian", "", "trixie"))
        == std::vector<std::string>{
            "debian-trixie.user-data", "debian-all.user-data", "default.user-data"});
}

TEST_CASE(
    "cloud-init: the first candidate present wins, names compared case-insensitively", "[oobe]")
{
    const azl::TempDir profile("azl-cloud-init-test");
    const auto dir = profile.path() / ".cloud-init";
    std::filesystem::create_directories(dir);
    const auto distro = os("azurelinux", "3.0", "");
    CHECK_FALSE(find_cloud_init_user_data(profile.path(), "Dev", distro));
    azl::write_file_atomic(dir / "Default.User-Data", "#cloud-config\n");
    CHECK(find_cloud_init_user_data(profile.path(), "Dev", distro) == dir / "Default.User-Data");
    azl::write_file_atomic(dir / "AzureLinux-All.user-data", "#cloud-config\n");
    CHECK(
        find_cloud_init_user_data(profile.path(), "Dev", distro)
        == dir / "AzureLinux-All.user-data");
    azl::write_file_atomic(dir / "azurelinux-3.0.USER-DATA", "#cloud-config\n");
    azl::write_file_atomic(dir / "other.user-data", "#cloud-config\n");
    CHECK(
        find_cloud_init_user_data(profile.path(), "Dev", distro)
        == dir / "azurelinux-3.0.USER-DATA");
    azl::write_file_atomic(dir / "dev.user-data", "#cloud-config\n");
    CHECK(find_cloud_init_user_data(profile.path(), "Dev", distro) == dir / "dev.user-data");
    // A folder of that name is not a file.
    std::filesystem::remove(dir / "dev.user-data");
    std::filesystem::create_directory(dir / "DEV.user-data");
    CHECK(
        find_cloud_init_user_data(profile.path(), "Dev", distro)
        == dir / "azurelinux-3.0.USER-DATA");
}

TEST_CASE("cloud-init: an Ubuntu on WSL user-data file translates key by key", "[oobe]")
{
    const auto layer =
        translate_cloud_config("ubuntu.user-data", sample("ubuntu-wsl.user-data"), debian_target());
    CHECK(layer.kind == LayerKind::cloud_init);
    const json& doc = layer.document;
    CHECK(doc["version"] == 1);
    CHECK(doc["locale"] == "en_US.UTF-8");
    CHECK(doc["timezone"] == "Europe/Berlin");
    // users: the sudo rule decides nopasswd; sudo is the admin group; netdev is not in the image.
    const json& u = doc["user"];
    CHECK(u["name"] == "jdoe");
    CHECK(u["gecos"] == "Jane Doe");
    CHECK(u["groups"] == json::array({"users", "audio"}));
    CHECK(u["sudo"] == "nopasswd");
    CHECK(u["shell"] == "/bin/bash");
    CHECK_FALSE(u.contains("password_hash"));
    CHECK(u["ssh_authorized_keys"].size() == 1);
    CHECK(noted(layer, "users/0/groups/netdev: not used (no such group in this image"));
    // write_files, in order, with their flags.
    REQUIRE(doc["files"].size() == 2);
    CHECK(doc["files"][0]["path"] == "/etc/wsl.conf");
    CHECK(doc["files"][0]["append"] == true);
    CHECK(doc["files"][0]["content"] == "[user]\ndefault=jdoe\n");
    CHECK(doc["files"][1]["owner"] == "jdoe:jdoe");
    CHECK(doc["files"][1]["permissions"] == "0640");
    CHECK(doc["files"][1]["defer"] == true);
    // ca_certs: trusted; remove_defaults false says nothing.
    REQUIRE(doc["ca_certificates"].size() == 1);
    CHECK(doc["ca_certificates"][0]["name"] == "cloud-init-1");
    CHECK(
        doc["ca_certificates"][0]["pem"].get<std::string>().starts_with("-----BEGIN CERTIFICATE"));
    CHECK_FALSE(noted(layer, "ca_certs"));
    // packages: a version pin is named as ignored.
    CHECK(doc["package_update"] == true);
    CHECK(doc["package_upgrade"] == false);
    CHECK(doc["packages"] == json::array({"git", "jq"}));
    CHECK(noted(layer, "packages/1 (jq=1.6-2.1): not used (the version pin"));
    // apt sources: $RELEASE is the guest's code name, signed-by the key file; a PPA is Ubuntu's.
    REQUIRE(doc["repositories"].size() == 1);
    const json& repo = doc["repositories"][0];
    CHECK(repo["name"] == "contoso");
    CHECK(repo["url"] == "https://packages.contoso.example/apt");
    CHECK(repo["suite"] == "bookworm");
    CHECK(repo["components"] == json::array({"main"}));
    CHECK(repo["gpg_key_file"] == "/usr/share/keyrings/contoso.gpg");
    CHECK(noted(layer, "apt/sources/ppa-tools: not used (PPAs are Ubuntu's)"));
    // A line that is not one, e.g. options never closed, is named too.
    const auto unclosed = translate_cloud_config(
        "u.user-data",
        "#cloud-config\napt:\n  sources:\n    x:\n      source: deb [oops http://x suite\n",
        debian_target());
    CHECK_FALSE(unclosed.document.contains("repositories"));
    CHECK(noted(unclosed, "apt/sources/x: not used (not a \"deb URL SUITE COMPONENTS\" line)"));
    // runcmd: an argument list is quoted for /bin/sh, a string is kept.
    CHECK(
        doc["run"]
        == json::array(
            {"sh -c 'echo provisioned by cloud-init > /var/tmp/provisioned'",
             "touch /var/tmp/second"}));
    // The translation is a valid answers layer.
    std::vector<Layer> layers{layer};
    const auto answers = parse_answers(merge_layers(std::move(layers)));
    REQUIRE(answers.user);
    CHECK(answers.user->sudo == SudoMode::nopasswd);
    CHECK(answers.files.size() == 2);
    CHECK(answers.files[1].mode == 0640);
    CHECK(answers.files[1].owner == "jdoe");
    CHECK(answers.files[1].group == "jdoe");
    CHECK(answers.package_update);
}

TEST_CASE("cloud-init: yum_repos, encoded files and the first non-default user on rpm", "[oobe]")
{
    const auto layer =
        translate_cloud_config("rpm.user-data", sample("rpm.user-data"), rpm_target());
    const json& doc = layer.document;
    CHECK(doc["hostname"] == "devbox-7");
    // "default" is the distribution's default user, which this image does not have.
    CHECK(noted(layer, "users/0 (default): not used"));
    const json& u = doc["user"];
    CHECK(u["name"] == "ops");
    CHECK(u["uid"] == 1500);
    CHECK(u["groups"] == json::array({"video"}));
    CHECK(u["sudo"] == "password"); // wheel without a NOPASSWD rule
    CHECK(u["password_hash"].get<std::string>().starts_with("$6$"));
    CHECK(noted(layer, "users/2 (second): not used (first-run setup creates one user"));
    REQUIRE(doc["repositories"].size() == 1);
    CHECK(doc["repositories"][0]["name"] == "contoso-tools");
    CHECK(doc["repositories"][0]["url"] == "https://packages.contoso.example/rpm/$basearch");
    CHECK(doc["repositories"][0]["gpg_key_file"] == "/etc/pki/rpm-gpg/RPM-GPG-KEY-contoso");
    CHECK(noted(layer, "yum_repos/contoso-tools/priority: not used"));
    CHECK(noted(layer, "yum_repos/disabled-one: not used (enabled is false)"));
    REQUIRE(doc["files"].size() == 2);
    CHECK(doc["files"][0]["content_base64"] == "AAECA/8=");
    CHECK(doc["files"][0]["permissions"] == "0755");
    CHECK(doc["files"][1]["permissions"] == "0600");
    CHECK(doc["package_upgrade"] == true);
    CHECK(doc["run"] == json::array({"echo \"it's done\""}));
    std::vector<Layer> layers{layer};
    const auto answers = parse_answers(merge_layers(std::move(layers)));
    CHECK(answers.files[0].content == std::string("\x00\x01\x02\x03\xff", 5));
    CHECK(answers.files[1].content == "color=blue\nlevel=3\n"); // gz+b64, decompressed
    CHECK(answers.files[0].mode == 0755);

    // The same file on a Debian-like guest: yum repositories do not apply there.
    const auto on_debian =
        translate_cloud_config("rpm.user-data", sample("rpm.user-data"), debian_target());
    CHECK_FALSE(on_debian.document.contains("repositories"));
    CHECK(noted(on_debian, "yum_repos: not used (this distribution does not use yum"));
}

TEST_CASE("cloud-init: every key without an equivalent is named as ignored", "[oobe]")
{
    const auto layer =
        translate_cloud_config("ignored.user-data", sample("ignored.user-data"), debian_target());
    for (const auto* key :
         {"bootcmd: not used (runs at every boot",
          "ssh_pwauth: not used",
          "snap: not used",
          "ssh_authorized_keys: not used",
          "final_message: not used",
          "power_state: not used",
          "users/0/homedir: not used",
          "users/0/primary_group: not used",
          "users/0/plain_text_passwd: not used (lock_passwd is true",
          "ca_certs/remove_defaults: not used (the image's trusted CA certificates are kept"})
    {
        INFO(key);
        CHECK(noted(layer, key));
    }
    CHECK(layer.document["user"]["sudo"] == "password");
    CHECK_FALSE(layer.document["user"].contains("password"));
}

TEST_CASE("cloud-init: bad YAML is refused naming the file and the line", "[oobe]")
{
    const auto target = debian_target();
    const auto bad_yaml = thrown_message<AnswersError>(
        [&]
        {
            translate_cloud_config(
                "/mnt/c/Users/j/.cloud-init/default.user-data",
                "#cloud-config\nusers:\n  - name: a\n    groups: [sudo\npackages: [git]\n",
                target);
        });
    CHECK(bad_yaml.starts_with(
        "/mnt/c/Users/j/.cloud-init/default.user-data: not valid YAML: line "));
    const auto wrong_type = thrown_message<AnswersError>(
        [&] {
            translate_cloud_config(
                "d.user-data", "#cloud-config\n\npackage_update: maybe\n", target);
        });
    CHECK(wrong_type == "d.user-data: line 3: package_update: expected true or false");
    const auto no_name = thrown_message<AnswersError>(
        [&]
        {
            translate_cloud_config(
                "d.user-data",
                "#cloud-config\nusers:\n- gecos: Nobody\n  shell: /bin/sh\n",
                target);
        });
    CHECK(no_name == "d.user-data: line 3: users/0/name: missing: every user needs a name");
    const auto bad_b64 = thrown_message<AnswersError>(
        [&]
        {
            translate_cloud_config(
                "d.user-data",
                "#cloud-config\nwrite_files:\n- path: /x\n  encoding: b64\n  content: \"*&^\"\n",
                target);
        });
    CHECK(bad_b64 == "d.user-data: line 5: write_files/0/content: is not base64 text");
    const auto not_a_map = thrown_message<AnswersError>(
        [&] { translate_cloud_config("d.user-data", "#cloud-config\n- a\n- b\n", target); });
    CHECK(not_a_map == "d.user-data: line 2: expected a mapping of cloud-config keys");
}

TEST_CASE("cloud-init: user-data that is not cloud-config is not used, with the reason", "[oobe]")
{
    const auto target = rpm_target();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"#!/bin/bash\necho hello\n", "a shell script (#!)"},
        {"#include\n/mnt/c/Users/me/cfg.yaml\n", "an include list (#include)"},
        {"Content-Type: multipart/mixed; boundary=\"x\"\n", "MIME multi-part user-data"},
        {"## template: jinja\n#cloud-config\n", "a Jinja template"},
        {"#cloud-config-archive\n- type: text/x-shellscript\n", "a cloud-config archive"},
        {"users:\n- name: x\n", "not cloud-config (its first line is not #cloud-config)"},
    };
    for (const auto& [text, kind] : cases)
    {
        INFO(text);
        const auto layer = translate_cloud_config("s.user-data", text, target);
        CHECK(layer.document == json{{"version", 1}});
        REQUIRE(layer.ignored.size() == 1);
        CHECK(layer.ignored[0].starts_with(kind));
        CHECK(layer.ignored[0].ends_with("first-run setup reads only #cloud-config user-data"));
    }
    // Leading white space, another case and a byte-order mark, as cloud-init and Windows editors
    // allow.
    const auto bom = translate_cloud_config(
        "s.user-data", "\xEF\xBB\xBF  #Cloud-Config\r\ntimezone: UTC\r\n", target);
    CHECK(bom.ignored.empty());
    CHECK(bom.document["timezone"] == "UTC");
    // An empty cloud-config document is an empty layer.
    CHECK(translate_cloud_config("s.user-data", "#cloud-config\n", target).document.size() == 1);
}

TEST_CASE("cloud-init: a locked machine policy value beats the cloud-init layer", "[oobe]")
{
    const std::string policy = R"(C:\ProgramData\AzureLinux\oobe.json)";
    std::vector<Layer> layers;
    layers.push_back(load_layer(
        LayerKind::machine_policy,
        policy,
        R"({"version": 1, "timezone": "UTC", "locked": ["/timezone", "/run"]})"));
    layers.push_back(translate_cloud_config(
        "/mnt/c/Users/j/.cloud-init/default.user-data",
        "#cloud-config\ntimezone: Europe/Berlin\nruncmd:\n- echo hi\npackages: [git]\n",
        rpm_target()));
    const auto merged = merge_layers(std::move(layers));
    CHECK(merged.document["timezone"] == "UTC");
    CHECK_FALSE(merged.document.contains("run"));
    CHECK(merged.document["packages"] == json::array({"git"}));
    REQUIRE(merged.refusals.size() == 2);
    const auto refused_tz = std::find_if(
        merged.refusals.begin(),
        merged.refusals.end(),
        [](const Refusal& r) { return r.key == "/timezone"; });
    REQUIRE(refused_tz != merged.refusals.end());
    CHECK(refused_tz->origin == "/mnt/c/Users/j/.cloud-init/default.user-data");
    CHECK(refused_tz->policy == policy);
    CHECK(merged.origin_of("/packages/0") == "/mnt/c/Users/j/.cloud-init/default.user-data");
}

TEST_CASE("cloud-init: file content is a secret in the effective values", "[oobe]")
{
    std::vector<Layer> layers;
    layers.push_back(translate_cloud_config(
        "d.user-data",
        "#cloud-config\nwrite_files:\n- path: /etc/token\n  content: s3cret\n  permissions: "
        "'0600'\n",
        rpm_target()));
    const auto values = effective_values(merge_layers(std::move(layers)));
    REQUIRE(values.size() == 1);
    CHECK(values[0].key == "/files/0");
    CHECK(values[0].value["content"] == "(set)");
    CHECK(values[0].value["path"] == "/etc/token");
}

TEST_CASE("answers: files entries are validated", "[oobe]")
{
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"version": 1, "files": [{"path": "etc/x"}]})",
         "/files/0/path: must be an absolute path"},
        {R"({"version": 1, "files": [{"path": "/a/../etc/x"}]})", "/files/0/path: must be"},
        {R"({"version": 1, "files": [{"path": "/x", "permissions": "0999"}]})",
         "/files/0/permissions: must be an octal mode"},
        {R"({"version": 1, "files": [{"path": "/x", "owner": "a b"}]})",
         "/files/0/owner: must be USER or USER:GROUP"},
        {R"({"version": 1, "files": [{"path": "/x", "content_base64": "!!"}]})",
         "/files/0/content_base64: is not base64 text"},
        {R"({"version": 1, "files": [{"path": "/x", "mode": "0644"}]})",
         "/files/0/mode: unknown key"},
        {R"({"version": 1, "package_upgrade": "yes"})", "/package_upgrade: expected true or false"},
    };
    for (const auto& [doc, message] : cases)
    {
        INFO(doc);
        const std::string text = doc; // a lambda cannot capture a structured binding (clang 14)
        const auto error = thrown_message<AnswersError>([&] { parse_answers(text, "a.json"); });
        CHECK(error.starts_with("a.json: " + message));
    }
    const auto a = parse_answers(
        R"({"version": 1, "files": [{"path": "/x", "owner": "dev", "append": true}]})", "a.json");
    CHECK(a.files[0].owner == "dev");
    CHECK(a.files[0].group == "dev");
    CHECK(a.files[0].mode == 0644);
    CHECK(a.files[0].append);
}
