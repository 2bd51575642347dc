#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/integration/bridge.hpp>

#include <fmt/format.h>

namespace azl::bridge_app
{

namespace
{

struct TokenOptions
{
    std::string resource;
    std::string scope;
    std::string tenant;
};

} // namespace

void add_token(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "token", "Print an access token in `az account get-access-token`'s JSON shape");
    auto opt = std::make_shared<TokenOptions>();
    auto* resource = cmd->add_option(
        "--resource", opt->resource, "Resource URI, e.g. https://management.azure.com/");
    auto* scope =
        cmd->add_option("--scope", opt->scope, "Scope, e.g. https://graph.microsoft.com/.default");
    resource->excludes(scope);
    cmd->add_option("--tenant", opt->tenant, "Tenant id or domain");
    cmd->callback(
        [&ctx, opt]
        {
            integration::TokenRequest request;
            request.kind = opt->scope.empty() ? integration::TargetKind::resource
                                              : integration::TargetKind::scope;
            request.target = opt->scope.empty() ? opt->resource : opt->scope;
            if (request.target.empty())
            {
                request.target = "https://management.azure.com/"; // az's own default
            }
            if (!opt->tenant.empty())
            {
                request.tenant = opt->tenant;
            }
            if (!integration::is_safe_cli_argument(request.target)
                || (request.tenant && !integration::is_safe_cli_argument(*request.tenant)))
            {
                throw UserError(
                    "the resource, scope or tenant contains characters no Azure identifier has",
                    {},
                    ExitCode::usage);
            }
            fmt::print("{}\n", integration::get_token(ctx.config(), request).dump(2));
        });
}

} // namespace azl::bridge_app
