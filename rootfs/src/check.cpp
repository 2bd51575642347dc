// `image check`: collect the facts of an image in one pass, then run the rule table over them.

#include "check_internal.hpp"

#include <azl/rootfs/check.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace azl::rootfs
{

namespace
{

// A rule that fires on thousands of members (an archive packed with absolute names) says it once
// per member only this often, then sums up the rest.
constexpr std::size_t kMaxFindingsPerRule = 20;

void append_findings(const RuleInfo& rule, std::vector<Finding> found, std::vector<Finding>& out)
{
    std::stable_sort(
        found.begin(),
        found.end(),
        [](const Finding& a, const Finding& b) { return a.path < b.path; });
    const std::size_t total = found.size();
    if (total > kMaxFindingsPerRule)
    {
        found.resize(kMaxFindingsPerRule);
        Finding more = found.back();
        more.path.clear();
        more.message =
            fmt::format("… and {} more findings of rule {}", total - kMaxFindingsPerRule, rule.id);
        found.push_back(std::move(more));
    }
    std::move(found.begin(), found.end(), std::back_inserter(out));
}

} // namespace

namespace check_detail
{

RuleContext::RuleContext(const ImageFacts& facts, const CheckOptions& options, std::string arch)
    : m_facts(facts)
    , m_options(options)
    , m_arch(std::move(arch))
{
}

std::string RuleContext::input_name() const
{
    return m_facts.input.string();
}

void RuleContext::report(std::string path, std::string message, std::string hint)
{
    m_found.push_back(Finding{
        .rule = std::string(m_rule->id),
        .severity = m_rule->severity,
        .path = std::move(path),
        .message = std::move(message),
        .hint = std::move(hint),
    });
}

void RuleContext::start(const RuleInfo& rule)
{
    m_rule = &rule;
    m_found.clear();
}

std::vector<Finding> RuleContext::take()
{
    return std::exchange(m_found, {});
}

} // namespace check_detail

std::string_view severity_name(Severity s)
{
    switch (s)
    {
    case Severity::error:
        return "error";
    case Severity::warning:
        return "warning";
    case Severity::info:
        return "info";
    }
    return "unknown";
}

bool CheckReport::has_errors() const
{
    return std::any_of(
        findings.begin(),
        findings.end(),
        [](const Finding& f) { return f.severity == Severity::error; });
}

std::span<const RuleInfo> check_rules()
{
    return check_detail::rule_infos();
}

CheckReport check_image(const std::filesystem::path& input, const CheckOptions& options)
{
    using namespace check_detail;
    // Validated before the (possibly long) pass so that a typo fails fast.
    std::string arch = options.arch ? canonical_arch(*options.arch) : std::string();
    const ImageFacts facts = collect_facts(input);
    if (arch.empty())
    {
        const Resolved sh = facts.resolve("bin/sh");
        if (sh.member != nullptr && sh.member->elf_probe == ElfProbe::elf)
        {
            arch = elf_arch_name(sh.member->elf);
        }
    }
    const bool root_tree = is_root_tree(facts);
    RuleContext ctx(facts, options, std::move(arch));
    CheckReport report;
    report.input = input;
    report.format = facts.format;
    report.compression = facts.compression;
    report.entries = facts.members.size();
    for (const Rule& rule : rule_table())
    {
        if (rule.scope == Scope::root_tree && !root_tree)
        {
            continue;
        }
        ctx.start(rule.info);
        rule.run(ctx);
        append_findings(rule.info, ctx.take(), report.findings);
    }
    return report;
}

} // namespace azl::rootfs
