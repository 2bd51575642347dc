# Intune remediation, remediation script: makes this user's Azure Linux distribution as the
# organisation wants it (installs it, runs first-run setup with the answers, applies changed
# answers). Same instance and same run settings as Detect-AzureLinux.ps1. Running it again changes
# nothing.
$ErrorActionPreference = 'Stop'
$instance = @{
    name        = 'AzureLinux'
    image       = 'https://contoso.example/wsl/AzureLinux-4.0-x64.wsl'
    sha256      = '0f2d3c4b5a69788796a5b4c3d2e1f0011223344556677889900aabbccddeeff0'
    answersFile = "$env:ProgramData\AzureLinux\team-answers.json"
} | ConvertTo-Json -Compress

# stdout: the state afterwards, then the properties changed; messages (JSON lines) on stderr.
$lines = $instance | & azurelinux.exe dsc set
if ($LASTEXITCODE -ne 0) {
    Write-Output "azurelinux dsc set failed (exit $LASTEXITCODE)"
    exit $LASTEXITCODE
}
Write-Output "changed: $($lines[1])"
exit 0
